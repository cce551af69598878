import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { openCapture } from '../../extension/core/capture/openCapture';
import { unreachableDestination } from './unreachableDestination';

/**
 * `mfd record` as a user runs it: a real child process, stopped by a signal while a migration is still
 * open, or killed with SIGKILL in the middle of one. Time bounds here are generous: they catch a process
 * that never exits, they do not measure speed.
 */

const MFD = resolve(__dirname, '../../extension/cli/mfd.ts');
const EXIT_BOUND_MS = 60_000;
const dir = mkdtempSync(join(tmpdir(), 'mfd-record-process-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

interface Recording {
  child: ChildProcess;
  port: number;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; timedOut: boolean }>;
}

function startRecord(forwardPort: number, out: string): Promise<Recording> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      MFD,
      'record',
      '--listen',
      '127.0.0.1:0',
      '--forward',
      `127.0.0.1:${forwardPort}`,
      '--out',
      out,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let err = '';
  let timedOut = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; timedOut: boolean }>((done) => {
    child.on('exit', (code, signal) => done({ code, signal, timedOut }));
  });
  return new Promise((resolve, reject) => {
    child.stderr!.on('data', (b) => {
      err += b;
      const m = /listening on [^\s]+:(\d+),/.exec(err);
      if (m) resolve({ child, port: Number(m[1]), stderr: () => err, exited });
    });
    child.on('exit', () => reject(new Error(`mfd record exited before listening: ${err}`)));
    setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, EXIT_BOUND_MS).unref();
  });
}

/** A destination that reads and counts everything and never closes its side. */
async function holdingDestination(): Promise<{ server: Server; received: () => number; sockets: Socket[] }> {
  let received = 0;
  const sockets: Socket[] = [];
  const server = createServer({ allowHalfOpen: true }, (s) => {
    sockets.push(s);
    s.on('data', (b) => (received += b.length));
    s.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { server, received: () => received, sockets };
}

function until(cond: () => boolean, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const tick = (): void => {
      if (cond()) return resolve();
      if (Date.now() - started > EXIT_BOUND_MS) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(tick, 20);
    };
    tick();
  });
}

async function closeReasons(path: string): Promise<(string | undefined)[]> {
  const cap = await openCapture(path);
  await cap.source.close();
  return cap.streams.map((s) => s.closeReason);
}

for (const [signal, times] of [
  ['SIGINT', 1],
  ['SIGTERM', 1],
  ['SIGINT', 2],
] as const) {
  test(`${signal}${times > 1 ? ` twice in a row (an impatient Ctrl-C)` : ''} while a migration connection is open: mfd record exits and writes CLOSE records`, async () => {
    const dest = await holdingDestination();
    const out = join(dir, `held-${signal}-${times}.mfd`);
    const rec = await startRecord((dest.server.address() as { port: number }).port, out);
    const source = connect({ host: '127.0.0.1', port: rec.port, allowHalfOpen: true });
    source.on('error', () => undefined);
    await new Promise((r) => source.once('connect', r));
    source.write(Buffer.alloc(100_000, 7));
    await until(() => dest.received() === 100_000, 'the destination to receive the bytes');
    for (let i = 0; i < times; i++) rec.child.kill(signal);
    const r = await rec.exited;
    source.destroy();
    for (const s of dest.sockets) s.destroy();
    dest.server.close();
    assert.equal(r.timedOut, false, `mfd record did not exit on ${signal}: ${rec.stderr()}`);
    assert.equal(r.code, 0, rec.stderr());
    const reasons = await closeReasons(out);
    assert.equal(reasons.length, 1);
    assert.match(reasons[0] ?? 'no CLOSE record', /stopped while the connection was open/);
  });
}

test('SIGTERM while the destination never completes the connect: exits, the stream gets its CLOSE record', async () => {
  const dest = await unreachableDestination();
  const out = join(dir, 'connecting.mfd');
  const rec = await startRecord(dest.port, out);
  const source = connect({ host: '127.0.0.1', port: rec.port });
  source.on('error', () => undefined);
  await new Promise((r) => source.once('connect', r));
  source.write('QEVM');
  await new Promise((r) => setTimeout(r, 300));
  rec.child.kill('SIGTERM');
  const r = await rec.exited;
  source.destroy();
  dest.stop();
  assert.equal(r.timedOut, false, `mfd record did not exit: ${rec.stderr()}`);
  assert.equal(r.code, 0, rec.stderr());
  assert.doesNotMatch(rec.stderr(), /stream 0 open/, 'the connect to the destination was still pending');
  const reasons = await closeReasons(out);
  assert.equal(reasons.length, 1);
  assert.match(reasons[0] ?? 'no CLOSE record', /stopped/);
});

/** A pattern that tells each byte's position: byte i is (i * 7 + (i >> 16)) & 0xff. */
function patterned(start: number, n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = ((start + i) * 7 + ((start + i) >> 16)) & 0xff;
  return b;
}

/** Streams patterned bytes through a recorder and kills it (SIGKILL) once the destination got `killAfter` bytes. */
async function killMidMigration(
  name: string,
  killAfter: number,
): Promise<{ received: number; captured: number; mismatchAt: number }> {
  const dest = await holdingDestination();
  const out = join(dir, name);
  const rec = await startRecord((dest.server.address() as { port: number }).port, out);
  const source = connect({ host: '127.0.0.1', port: rec.port });
  source.on('error', () => undefined);
  await new Promise((r) => source.once('connect', r));
  let sent = 0;
  let writing = true;
  const pump = (): void => {
    while (writing && source.write(patterned(sent, 1 << 20))) sent += 1 << 20;
    if (writing) source.once('drain', () => ((sent += 1 << 20), pump()));
  };
  pump();
  await until(() => dest.received() > killAfter, `the destination to receive ${killAfter} bytes`);
  rec.child.kill('SIGKILL');
  await rec.exited;
  writing = false;
  // What the recorder had already handed to the kernel still reaches the destination: let it arrive.
  let last = -1;
  await until(() => {
    const now = dest.received();
    const settled = now === last;
    last = now;
    return settled && dest.sockets.every((s) => s.readableEnded || s.destroyed);
  }, 'the destination to see the end');
  source.destroy();
  dest.server.close();
  const received = dest.received();
  const cap = await openCapture(out);
  try {
    const s = cap.streams[0];
    const captured = s?.toDestination.length ?? 0;
    const tail = Math.min(received, captured, 1 << 20);
    const got = s ? Buffer.from(await s.toDestination.read(received - tail, tail)) : Buffer.alloc(0);
    const want = patterned(received - tail, tail);
    const at = got.findIndex((b, i) => b !== want[i]);
    return { received, captured, mismatchAt: at < 0 ? -1 : received - tail + at };
  } finally {
    await cap.source.close();
  }
}

test('after kill -9 mid-migration, every byte the destination received is in the capture', async () => {
  // A few kills at different points: each must find the capture holding all the destination has.
  for (const [i, mib] of [32, 48, 64].entries()) {
    const r = await killMidMigration(`killed-${i}.mfd`, mib << 20);
    assert.ok(
      r.captured >= r.received,
      `kill after ${mib} MiB: the destination received ${r.received} bytes, the capture holds ${r.captured} (${r.received - r.captured} missing)`,
    );
    assert.equal(r.mismatchAt, -1, `kill after ${mib} MiB: captured byte ${r.mismatchAt} differs from the one sent`);
  }
});
