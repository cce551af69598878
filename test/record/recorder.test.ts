import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Recorder } from '../../extension/core/record/recorder';
import { openCapture } from '../../extension/core/capture/openCapture';

/** The recorder against plain sockets (no QEMU): byte-exact in both directions, accept order, half-close. */

const dir = mkdtempSync(join(tmpdir(), 'mfd-recorder-test-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

/** Reads everything the client sends, then answers with a reply and closes its side. */
function replyServer(reply: (received: Buffer) => Buffer): Promise<Server> {
  const server = createServer({ allowHalfOpen: true }, (s) => {
    const parts: Buffer[] = [];
    s.on('data', (b) => parts.push(b));
    s.on('end', () => s.end(reply(Buffer.concat(parts))));
  });
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r(server)));
}

function exchange(port: number, payload: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const s: Socket = connect({ host: '127.0.0.1', port, allowHalfOpen: true }, () => s.end(payload));
    const parts: Buffer[] = [];
    s.on('data', (b) => parts.push(b));
    s.on('end', () => resolve(Buffer.concat(parts)));
    s.on('error', reject);
  });
}

test('forwards and records both directions byte for byte, streams in accept order', async () => {
  const server = await replyServer((b) => Buffer.concat([Buffer.from('reply:'), b.subarray(0, 1000)]));
  const out = join(dir, 'two-way.mfd');
  // A tiny high-water mark forces the file-backpressure path on every chunk.
  const rec = new Recorder({
    listen: { host: '127.0.0.1', port: 0 },
    forward: { host: '127.0.0.1', port: (server.address() as { port: number }).port },
    out,
    meta: { pageSize: 4096 },
    highWaterBytes: 1,
    lowWaterBytes: 0,
  });
  const { port } = await rec.start();
  const payloads = [randomBytes(3 << 20), randomBytes(12345), randomBytes(1)];
  const replies: Buffer[] = [];
  for (const p of payloads) replies.push(await exchange(port, p));
  await rec.whenIdle(5000);
  rec.note('done');
  const stats = await rec.stop();
  server.close();
  assert.ok(stats.filePauses > 0);
  const cap = await openCapture(out);
  try {
    assert.deepEqual(cap.diagnostics, []);
    assert.equal(cap.meta.tool, 'mfd record');
    assert.equal(cap.meta.pageSize, 4096);
    assert.deepEqual(
      cap.notes.map((n) => n.text),
      ['done'],
    );
    assert.equal(cap.streams.length, 3);
    for (const [i, s] of cap.streams.entries()) {
      assert.equal(s.closeReason, 'eof');
      assert.ok(
        Buffer.from(await s.toDestination.read(0, s.toDestination.length)).equals(payloads[i]),
        `stream ${i} to destination`,
      );
      assert.ok(Buffer.from(await s.toSource.read(0, s.toSource.length)).equals(replies[i]), `stream ${i} to source`);
      assert.equal(replies[i].toString('latin1', 0, 6), 'reply:');
    }
  } finally {
    await cap.source.close();
  }
});

test('a client reset is recorded as reset and passed on', async () => {
  let serverSaw = '';
  const server = createServer((s) => {
    s.on('error', (e) => (serverSaw = (e as NodeJS.ErrnoException).code ?? e.message));
    s.on('close', () => (serverSaw ||= 'close'));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const out = join(dir, 'reset.mfd');
  const rec = new Recorder({
    listen: { host: '127.0.0.1', port: 0 },
    forward: { host: '127.0.0.1', port: (server.address() as { port: number }).port },
    out,
  });
  const { port } = await rec.start();
  await new Promise<void>((resolve) => {
    const s = connect({ host: '127.0.0.1', port }, () => {
      s.write('abc');
      rec.once('open', () => setTimeout(() => (s.resetAndDestroy(), resolve()), 50));
    });
  });
  await rec.whenIdle(5000);
  const stats = await rec.stop();
  server.close();
  assert.equal(stats.streams[0].closeReason, 'reset');
  await new Promise((r) => setTimeout(r, 50));
  assert.ok(['ECONNRESET', 'close'].includes(serverSaw), serverSaw);
  const cap = await openCapture(out);
  await cap.source.close();
  assert.equal(cap.streams[0].closeReason, 'reset');
});

test('refuses to replace an existing file unless asked', async () => {
  const out = join(dir, 'twice.mfd');
  const a = new Recorder({ listen: { host: '127.0.0.1', port: 0 }, forward: { host: '127.0.0.1', port: 1 }, out });
  await a.start();
  await a.stop();
  await assert.rejects(
    new Recorder({ listen: { host: '127.0.0.1', port: 0 }, forward: { host: '127.0.0.1', port: 1 }, out }).start(),
    /EEXIST/,
  );
  const b = new Recorder({
    listen: { host: '127.0.0.1', port: 0 },
    forward: { host: '127.0.0.1', port: 1 },
    out,
    overwrite: true,
  });
  await b.start();
  await b.stop();
});

test('a destination that never completes the connect: the stream is reset after the connect timeout, with a CLOSE record', async () => {
  const { unreachableDestination } = await import('./unreachableDestination');
  const dest = await unreachableDestination();
  const out = join(dir, 'connect-timeout.mfd');
  const rec = new Recorder({
    listen: { host: '127.0.0.1', port: 0 },
    forward: { host: '127.0.0.1', port: dest.port },
    out,
    connectTimeoutMs: 300,
  });
  const { port } = await rec.start();
  const errors: string[] = [];
  rec.on('streamError', (e) => errors.push(e.message));
  const sourceSaw = await new Promise<string>((resolve) => {
    const s = connect({ host: '127.0.0.1', port }, () => s.write('QEVM'));
    s.on('error', (e) => resolve((e as NodeJS.ErrnoException).code ?? e.message));
    s.on('close', () => resolve('close'));
  });
  assert.equal(await rec.whenIdle(5000), true);
  const stats = await rec.stop();
  dest.stop();
  assert.ok(['ECONNRESET', 'close'].includes(sourceSaw), sourceSaw);
  assert.match(stats.streams[0].closeReason ?? '', /timed out after 300 ms/);
  assert.match(errors[0] ?? '', /did not complete the connection within 0.3 s/);
  const cap = await openCapture(out);
  await cap.source.close();
  assert.match(cap.streams[0].closeReason ?? 'no CLOSE record', /timed out/);
});

test('a chunk reaches the peer only once its record is in the file (what kill -9 relies on)', async () => {
  const { MfdFileWriter } = await import('../../extension/core/capture/mfdWriter');
  // Hold every file write until released, as a slow disk would.
  const proto = MfdFileWriter.prototype as unknown as { writeAll: (...a: unknown[]) => Promise<void> };
  const original = proto.writeAll;
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let held = false;
  proto.writeAll = async function (this: unknown, ...a: unknown[]) {
    if (held) await gate;
    return original.apply(this, a);
  };
  let received = 0;
  const server = createServer((s) => s.on('data', (b) => (received += b.length)));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const out = join(dir, 'held-writes.mfd');
  const rec = new Recorder({
    listen: { host: '127.0.0.1', port: 0 },
    forward: { host: '127.0.0.1', port: (server.address() as { port: number }).port },
    out,
  });
  let s: Socket | undefined;
  try {
    const { port } = await rec.start();
    await new Promise((r) => setTimeout(r, 50));
    const opened = new Promise((r) => rec.once('open', r));
    s = connect({ host: '127.0.0.1', port });
    await opened;
    held = true;
    s.write(Buffer.alloc(5000, 1));
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(rec.stats().streams[0].toDestination, 5000, 'the recorder read the bytes');
    assert.equal(received, 0, 'forwarded before its record was written');
    release();
    const started = Date.now();
    while (received < 5000 && Date.now() - started < 10_000) await new Promise((r) => setTimeout(r, 10));
    assert.equal(received, 5000);
    s.destroy();
    await rec.whenIdle(5000);
  } finally {
    s?.destroy();
    release();
    proto.writeAll = original;
    await rec.stop();
    server.close();
  }
  const cap = await openCapture(out);
  await cap.source.close();
  assert.equal(cap.streams[0].toDestination.length, 5000);
});
