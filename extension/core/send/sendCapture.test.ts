import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MfdBuilder } from '../capture/mfdWriter';
import { sendCapture, SendConnectError, SendInputError } from './sendCapture';
import { MultifdChannelEncoder, page } from '../../../test/support/multifdEncoder';

/** A stand-in destination on 127.0.0.1: records each accepted connection's bytes, in accept order. */
interface FakeConnection {
  socket: Socket;
  bytes: Buffer[];
  received: number;
  ended: Promise<void>;
}
interface FakeOptions {
  /** Per accepted connection (by index): close after this many bytes. */
  closeAfter?: Record<number, number>;
  /** Per accepted connection: bytes to write back at once (the return path). */
  sendBack?: Record<number, Uint8Array>;
  /** Never read (a destination stuck elsewhere). */
  noRead?: boolean;
  /** Keep the connection open after the sender's EOF. */
  keepOpen?: boolean;
}

async function fakeDestination(
  o: FakeOptions = {},
): Promise<{ server: Server; port: number; conns: FakeConnection[]; close(): Promise<void> }> {
  const conns: FakeConnection[] = [];
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    const i = conns.length;
    let endedResolve!: () => void;
    const c: FakeConnection = { socket, bytes: [], received: 0, ended: new Promise((r) => (endedResolve = r)) };
    conns.push(c);
    socket.on('error', () => undefined);
    if (o.sendBack?.[i]) socket.write(o.sendBack[i]);
    if (o.noRead) {
      socket.pause();
      return;
    }
    socket.on('data', (b: Buffer) => {
      const limit = o.closeAfter?.[i];
      if (limit !== undefined && c.received + b.length >= limit) {
        c.bytes.push(b.subarray(0, limit - c.received));
        c.received = limit;
        socket.destroy();
        endedResolve();
        return;
      }
      c.bytes.push(b);
      c.received += b.length;
    });
    socket.on('end', () => {
      endedResolve();
      if (!o.keepOpen) socket.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    server,
    port,
    conns,
    close: () => {
      for (const c of conns) c.socket.destroy();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

const PS = 4096;
const dir = mkdtempSync(join(tmpdir(), 'mfd-send-test-'));

async function multifdChannel(id: number, packets: number): Promise<Uint8Array> {
  const e = new MultifdChannelEncoder({ version: '10.0', pageSize: PS, channelId: id });
  e.sync(0);
  for (let p = 0; p < packets; p++)
    await e.packet({
      ramblock: 'pc.ram',
      normal: Array.from({ length: 16 }, (_, k) => ({
        offset: (p * 16 + k) * PS,
        data: page(PS, p * 16 + k, 'random'),
      })),
      packetNum: 1 + p,
    });
  e.sync(packets + 1);
  return e.bytes();
}

function mainChannel(length: number): Uint8Array {
  const b = new Uint8Array(length);
  b.set([0x51, 0x45, 0x56, 0x4d, 0, 0, 0, 3]);
  for (let i = 8; i < length; i++) b[i] = (i * 7) & 0xff;
  return b;
}

/** Main channel (stream 0, with a recorded return path), two multifd channels; DATA records in small pieces. */
async function writeCapture(
  name: string,
  opts: { mainBytes?: number; packets?: number; returnPath?: Uint8Array } = {},
): Promise<{ path: string; streams: Uint8Array[] }> {
  const streams = [
    mainChannel(opts.mainBytes ?? 5000),
    await multifdChannel(0, opts.packets ?? 6),
    await multifdChannel(1, opts.packets ?? 6),
  ];
  const b = new MfdBuilder().meta({
    tool: 'test',
    pageSize: PS,
    parameters: { capabilities: { multifd: true }, 'multifd-channels': 2, 'multifd-compression': 'none' },
  });
  streams.forEach((_, id) => b.open(id, { client: `127.0.0.1:${1000 + id}`, server: '127.0.0.1:4444' }));
  // Interleave records of all streams, as a recorder writes them.
  const piece = 3000;
  const longest = Math.max(...streams.map((s) => s.length));
  for (let off = 0; off < longest; off += piece)
    streams.forEach((s, id) => off < s.length && b.data(id, s.subarray(off, off + piece)));
  if (opts.returnPath) b.data(0, opts.returnPath, 'toSource');
  streams.forEach((_, id) => b.close(id));
  const path = join(dir, `${name}.mfd`);
  writeFileSync(path, b.build());
  return { path, streams };
}

test('send: one connection per stream in accept order, bytes exactly as recorded; the return path is read and compared, never sent', async () => {
  const back = Uint8Array.of(1, 2, 3, 4, 5);
  const cap = await writeCapture('basic', { returnPath: back });
  const dst = await fakeDestination({ sendBack: { 0: back } });
  try {
    const progress: number[] = [];
    const r = await sendCapture(cap.path, {
      to: `127.0.0.1:${dst.port}`,
      onProgress: (p) => progress.push(p.sentBytes),
      progressIntervalMs: 5,
    });
    assert.equal(r.ok, true, JSON.stringify(r.problems));
    assert.equal(dst.conns.length, 3);
    dst.conns.forEach((c, i) =>
      assert.deepEqual(new Uint8Array(Buffer.concat(c.bytes)), cap.streams[i], `connection ${i}`),
    );
    assert.deepEqual(
      r.streams.map((s) => [s.id, s.kind, s.outcome]),
      [
        [0, 'main', 'sent'],
        [1, 'multifd', 'sent'],
        [2, 'multifd', 'sent'],
      ],
    );
    assert.deepEqual(r.streams[0].returnPath, {
      received: 5,
      recorded: 5,
      matchesRecording: true,
      head: '01 02 03 04 05',
    });
    assert.equal(r.streams[1].returnPath.matchesRecording, true);
    assert.equal(r.sentBytes, r.totalBytes);
    assert.equal(progress.at(-1), r.totalBytes);
    assert.deepEqual(r.requirements.capabilities, ['multifd']);
  } finally {
    await dst.close();
  }
});

test('send: a destination that closes a connection early is named, with stream, offset and the mismatch hint', async () => {
  const cap = await writeCapture('early', { packets: 400 }); // ~10 MiB per channel: more than socket buffers hold
  const dst = await fakeDestination({ closeAfter: { 1: 1000 } });
  try {
    const r = await sendCapture(cap.path, { to: `127.0.0.1:${dst.port}` });
    assert.equal(r.ok, false);
    const s1 = r.streams[1];
    assert.equal(s1.outcome, 'closed-early');
    assert.ok(s1.sent < s1.bytes, `${s1.sent} < ${s1.bytes}`);
    assert.ok(s1.stopFileOffset! > 0);
    assert.match(
      r.problems.join('\n'),
      /stream 1 \(multifd\): the destination (closed|reset|broke) the connection .*\(capture file offset \d+\); .*-uuid or migration capabilities\/parameters/,
    );
    // The others stop too: the migration is broken once one channel is.
    assert.ok(['sent', 'sent-still-open'].includes(r.streams[0].outcome), r.streams[0].outcome);
    assert.ok(['sent', 'sent-still-open', 'abandoned'].includes(r.streams[2].outcome), r.streams[2].outcome);
  } finally {
    await dst.close();
  }
});

test('send: nobody listening is a clear error, quickly', async () => {
  const cap = await writeCapture('refused');
  const dst = await fakeDestination();
  const port = dst.port;
  await dst.close();
  const t = Date.now();
  await assert.rejects(
    sendCapture(cap.path, { to: `127.0.0.1:${port}` }),
    (e: Error) =>
      e instanceof SendConnectError &&
      /stream 0 \(main\) to 127\.0\.0\.1:\d+: .*ECONNREFUSED.*-incoming/.test(e.message),
  );
  // A refusal is reported as it happens, not after the 10 s connect timeout (a generous bound: the machine is shared).
  assert.ok(Date.now() - t < 9000);
  await assert.rejects(sendCapture(cap.path, { to: 'nowhere' }), SendInputError);
});

test('send: --rate caps the total throughput', async () => {
  const cap = await writeCapture('rate', { packets: 10 }); // ~0.7 MiB in all
  const dst = await fakeDestination();
  try {
    const t = performance.now();
    const r = await sendCapture(cap.path, {
      to: `127.0.0.1:${dst.port}`,
      rateBytesPerSecond: 2 << 20,
      chunkBytes: 16 << 10,
    });
    const ms = performance.now() - t;
    assert.equal(r.ok, true);
    const expected = (r.totalBytes / (2 << 20)) * 1000;
    assert.ok(
      ms >= expected - 80,
      `${ms.toFixed(0)} ms for ${r.totalBytes} bytes at 2 MiB/s (≥ ${expected.toFixed(0)} expected)`,
    );
  } finally {
    await dst.close();
  }
});

test('send: --pause-at STREAM:PACKET stops every stream before that packet until onPause resolves', async () => {
  const cap = await writeCapture('pause', { packets: 6 });
  const dst = await fakeDestination();
  try {
    let seen: number | undefined;
    let offset = -1;
    const r = await sendCapture(cap.path, {
      to: `127.0.0.1:${dst.port}`,
      pauseAt: '1:3',
      chunkBytes: 8 << 10,
      onPause: async (p) => {
        offset = p.offset;
        await new Promise((res) => setTimeout(res, 200));
        seen = dst.conns[1].received;
      },
    });
    assert.equal(r.ok, true, JSON.stringify(r.problems));
    // A 10.0 channel: 64-byte handshake, setup SYNC (header only), 6 data packets (header + 16 pages), final SYNC.
    const header = (cap.streams[1].length - 64 - 6 * 16 * PS) / 8;
    assert.equal(offset, 64 + header + 2 * (header + 16 * PS), 'packet 3 is the third data packet');
    assert.equal(seen, offset, 'the destination had exactly the bytes before the packet');
    assert.equal(r.pause?.packet, 3);
    assert.deepEqual(new Uint8Array(Buffer.concat(dst.conns[1].bytes)), cap.streams[1]);
  } finally {
    await dst.close();
  }
});

test('send: bad --pause-at names the stream and the valid range', async () => {
  const cap = await writeCapture('badpause', { packets: 2 });
  const onPause = async () => undefined;
  await assert.rejects(
    sendCapture(cap.path, { to: '127.0.0.1:9', pauseAt: '0:1', onPause }),
    /stream 0 is the main channel, which has no multifd packets; use 0:@OFFSET/,
  );
  await assert.rejects(
    sendCapture(cap.path, { to: '127.0.0.1:9', pauseAt: '2:99', onPause }),
    /stream 2 has 4 decoded packet\(s\) \(0–3\)/,
  );
  await assert.rejects(
    sendCapture(cap.path, { to: '127.0.0.1:9', pauseAt: '7:0', onPause }),
    /stream 7 is not sent \(streams with bytes to send: 0, 1, 2\)/,
  );
  await assert.rejects(
    sendCapture(cap.path, { to: '127.0.0.1:9', pauseAt: '0:@999999', onPause }),
    /stream 0 has 5000 bytes/,
  );
  await assert.rejects(sendCapture(cap.path, { to: '127.0.0.1:9', pauseAt: 'x', onPause }), /STREAM:PACKET/);
});

test('send: a destination that stops reading is given up after the stall timeout; cancel ends at once', async () => {
  const cap = await writeCapture('stall', { packets: 400 });
  const dst = await fakeDestination({ noRead: true });
  try {
    const r = await sendCapture(cap.path, { to: `127.0.0.1:${dst.port}`, stallTimeoutMs: 400, closeTimeoutMs: 300 });
    assert.equal(r.ok, false);
    assert.ok(
      r.streams.some((s) => s.outcome === 'stalled'),
      JSON.stringify(r.streams.map((s) => s.outcome)),
    );
    assert.match(r.problems.join('\n'), /took no bytes/);

    const ac = new AbortController();
    setTimeout(() => ac.abort(), 300);
    const t = performance.now();
    const c = await sendCapture(cap.path, {
      to: `127.0.0.1:${dst.port}`,
      signal: ac.signal,
      stallTimeoutMs: 0,
      closeTimeoutMs: 10_000,
    });
    // Cancel closes every connection at once rather than waiting for the 10 s close timeout.
    assert.ok(performance.now() - t < 9000);
    assert.equal(c.cancelled, true);
    assert.equal(c.ok, false);
    assert.ok(c.streams.every((s) => s.outcome === 'cancelled' || s.outcome === 'sent'));
  } finally {
    await dst.close();
  }
});

test('send: a destination that keeps a connection open after the last byte is closed after the close timeout', async () => {
  const cap = await writeCapture('open');
  const dst = await fakeDestination({ keepOpen: true });
  try {
    const r = await sendCapture(cap.path, { to: `127.0.0.1:${dst.port}`, closeTimeoutMs: 200 });
    assert.equal(r.ok, true);
    assert.deepEqual(
      r.streams.map((s) => s.outcome),
      ['sent-still-open', 'sent-still-open', 'sent-still-open'],
    );
    assert.equal(r.warnings.length, 3);
  } finally {
    await dst.close();
  }
});

test('send: a destination that never reads nor closes is not reported as a success, however small the capture', async () => {
  // Small enough to sit in the socket buffers: every byte is "handed over" without the destination reading one.
  const cap = await writeCapture('hung', { mainBytes: 2000, packets: 1 });
  const dst = await fakeDestination({ noRead: true });
  try {
    const r = await sendCapture(cap.path, { to: `127.0.0.1:${dst.port}`, closeTimeoutMs: 300 });
    assert.deepEqual(
      r.streams.map((s) => s.sent === s.bytes),
      [true, true, true],
      'every byte was handed to the kernel',
    );
    assert.equal(r.confirmed, false);
    assert.match(r.unconfirmed ?? '', /never closed 3 of 3 connection\(s\).*no --qmp result/);
  } finally {
    await dst.close();
  }
  const ok = await fakeDestination();
  try {
    const r = await sendCapture(cap.path, { to: `127.0.0.1:${ok.port}` });
    assert.equal(r.ok, true, JSON.stringify(r.problems));
    assert.equal(r.confirmed, true, 'a destination that closes every connection after the last byte confirms it');
    assert.equal(r.unconfirmed, undefined);
  } finally {
    await ok.close();
  }
});
