import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, promises as fsp, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openCapture } from '../../extension/core/capture/openCapture';
import type { Capture } from '../../extension/core/capture/capture';
import { Recorder } from '../../extension/core/record/recorder';
import { le16, le32 } from '../../extension/core/util/bytes';
import { removeWorkDir, runMigration, type MigrationOptions, type MigrationResult } from './migration';
import { qemuAvailable } from './qemuBinaries';
import { freePort } from './qemuProcess';

/**
 * Real-QEMU tests of the recorder and the migration driver. Each runs real migrations (small: 32 MiB,
 * 2 channels), one at a time. Run: node --import tsx --test test/qemu/record.test.ts
 */

const dir = mkdtempSync(join(tmpdir(), 'mfd-record-test-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

const MULTIFD = [0x11, 0x22, 0x33, 0x44];
const QEVM = [0x51, 0x45, 0x56, 0x4d];

/** Sums DATA payload lengths per stream and direction by walking record headers, independently of openCapture. */
async function dataRecordTotals(path: string): Promise<Map<string, number>> {
  const file = await fsp.readFile(path);
  const totals = new Map<string, number>();
  let pos = le16(file, 10);
  while (pos + 16 <= file.length) {
    const len = le32(file, pos + 4);
    if (pos + 16 + len > file.length) break;
    if (file[pos] === 3) {
      const key = `${le16(file, pos + 2)}:${file[pos + 1] & 1 ? 'toSource' : 'toDestination'}`;
      totals.set(key, (totals.get(key) ?? 0) + len);
    }
    pos += 16 + len;
  }
  return totals;
}

function uuidBytes(uuid: string): number[] {
  return uuid
    .replace(/-/g, '')
    .match(/../g)!
    .map((h) => parseInt(h, 16));
}

async function checkRecordedMigration(r: MigrationResult, channels: number): Promise<Capture> {
  assert.equal(r.status, 'completed', `migration: ${r.status} ${r.error ?? ''}`);
  assert.ok(
    r.comparison?.equal,
    `destination RAM differs from the source's in ${r.comparison?.differingPages} pages (first at ${r.comparison?.firstDifferingOffset})`,
  );
  const cap = await openCapture(r.capture!);
  try {
    assert.equal(cap.format, 'mfd');
    assert.deepEqual(
      cap.diagnostics.map((d) => d.message),
      [],
    );
    assert.equal(cap.streams.length, 1 + channels, 'one main stream and one per multifd channel');
    assert.equal(cap.meta.pageSize, 4096);
    assert.ok(cap.meta.parameters && typeof cap.meta.parameters === 'object');
    const totals = await dataRecordTotals(r.capture!);
    const ids = new Set<number>();
    let mains = 0;
    let sum = 0;
    for (const s of cap.streams) {
      assert.equal(s.closeReason, 'eof', `stream ${s.id} close reason`);
      const head = [...(await s.toDestination.read(0, 64))];
      const stat = r.recorder!.streams[s.id];
      // Exactly the bytes forwarded, and exactly the sum of its DATA records.
      assert.equal(s.toDestination.length, stat.toDestination, `stream ${s.id}: bytes forwarded`);
      assert.equal(s.toDestination.length, totals.get(`${s.id}:toDestination`) ?? 0);
      assert.equal(s.toSource.length, totals.get(`${s.id}:toSource`) ?? 0);
      sum += s.toDestination.length;
      if (head.slice(0, 4).every((b, i) => b === QEVM[i])) {
        mains++;
        assert.deepEqual(head.slice(4, 8), [0, 0, 0, 3], 'QEMU_VM_FILE_VERSION 3');
        continue;
      }
      assert.deepEqual(
        head.slice(0, 8),
        [...MULTIFD, 0, 0, 0, 1],
        `stream ${s.id} starts with the multifd magic and version`,
      );
      assert.deepEqual(head.slice(8, 24), uuidBytes(r.uuid), 'the handshake carries the source uuid');
      ids.add(head[24]);
    }
    assert.equal(mains, 1, 'exactly one main stream');
    assert.equal(cap.streams[0].toDestination.length > 0 && mains, 1);
    assert.deepEqual([...ids].sort(), [...Array(channels).keys()], 'channel ids 0..N-1, each once');
    // QEMU counts every byte it wrote to any channel as transferred.
    const transferred = r.sourceInfo.ram?.transferred ?? 0;
    assert.ok(
      Math.abs(sum - transferred) <= transferred * 0.01,
      `captured ${sum} bytes, QEMU reports ${transferred} transferred`,
    );
    return cap;
  } finally {
    await cap.source.close();
  }
}

async function recorded(name: string, o: Omit<MigrationOptions, 'out'>): Promise<MigrationResult> {
  return runMigration({ ...o, out: join(dir, `${name}.mfd`), workDir: join(dir, name) });
}

test('QEMU 10.0, zstd, 2 channels, 32 MiB: recorded, destination RAM equals source RAM', async () => {
  const r = await recorded('q10-zstd', { qemu: '10.0', channels: 2, compression: 'zstd', ramMiB: 32, live: false });
  await checkRecordedMigration(r, 2);
  await removeWorkDir(r);
});

test('QEMU 7.2, no compression, 2 channels, 32 MiB: recorded, destination RAM equals source RAM', async () => {
  assert.ok(qemuAvailable('7.2'), 'QEMU 7.2 is not unpacked under .qemu/7.2: run bash scripts/setup.sh');
  const r = await recorded('q72-none', { qemu: '7.2', channels: 2, compression: 'none', ramMiB: 32, live: false });
  await checkRecordedMigration(r, 2);
  await removeWorkDir(r);
});

test('QEMU 10.0, zlib, legacy zero pages, live guest: several iterations, RAM equal', async () => {
  const r = await recorded('q10-zlib-live', {
    qemu: '10.0',
    channels: 2,
    compression: 'zlib',
    zeroPageDetection: 'legacy',
    ramMiB: 32,
    live: true,
  });
  await checkRecordedMigration(r, 2);
  assert.ok((r.dirtySyncCount ?? 0) >= 3, `only ${r.dirtySyncCount} dirty syncs`);
  await removeWorkDir(r);
});

test('kill -9 of the recorder mid-migration leaves a readable capture', async () => {
  const out = join(dir, 'killed.mfd');
  const forwardPort = await freePort();
  // The driver's destination listens on a port of its own choosing; the external recorder needs it up front,
  // so it forwards to a fixed port and the driver is told to use that one as the destination's.
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(__dirname, 'recordCli.ts'),
      '--listen',
      '127.0.0.1:0',
      '--forward',
      `127.0.0.1:${forwardPort}`,
      '--out',
      out,
    ],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr.setEncoding('utf8');
  const listenPort = await new Promise<number>((resolve, reject) => {
    child.stderr.on('data', (t: string) => {
      stderr += t;
      const m = /listening on [^\s]+:(\d+)/.exec(stderr);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`recorder exited (${code}): ${stderr}`)));
  });
  const exited = new Promise((r) => child.once('exit', r));
  let killedAt = 0;
  const r = await runMigration({
    qemu: '10.0',
    channels: 2,
    compression: 'none',
    ramMiB: 32,
    live: false,
    workDir: join(dir, 'killed'),
    viaPort: listenPort,
    incomingPort: forwardPort,
    // About 13 MB to send at 8 MiB/s: the kill lands well inside the migration.
    maxBandwidth: 8 << 20,
    timeoutMs: 30_000,
    onProgress: (info) => {
      const sent = info.ram?.transferred ?? 0;
      if (!killedAt && sent > 3 << 20) {
        killedAt = sent;
        child.kill('SIGKILL');
      }
    },
  });
  await exited;
  assert.ok(killedAt > 0, 'the recorder was killed during the migration');
  assert.notEqual(r.status, 'completed', 'the migration cannot complete without its proxy');
  const cap = await openCapture(out);
  try {
    assert.equal(cap.format, 'mfd');
    const truncated = cap.diagnostics.filter((d) => d.code === 'capture.truncated-record');
    const others = cap.diagnostics.filter((d) => d.code !== 'capture.truncated-record');
    assert.ok(truncated.length <= 1, 'at most the last record is cut off');
    assert.deepEqual(
      others.map((d) => d.message),
      [],
    );
    assert.ok(cap.streams.length >= 2, `${cap.streams.length} streams`);
    assert.deepEqual([...(await cap.streams[0].toDestination.read(0, 4))], QEVM);
    for (const s of cap.streams.slice(1))
      if (s.toDestination.length >= 4) assert.deepEqual([...(await s.toDestination.read(0, 4))], MULTIFD);
    const captured = cap.streams.reduce((n, s) => n + s.toDestination.length, 0);
    assert.ok(captured >= 2 << 20, `captured ${captured} bytes before the kill`);
  } finally {
    await cap.source.close();
  }
  await removeWorkDir(r);
});

test('destination refusing the connection: clear error, CLOSE record, readable capture', async () => {
  const out = join(dir, 'refused.mfd');
  const deadPort = await freePort(); // nothing listens there
  const rec = new Recorder({
    listen: { host: '127.0.0.1', port: 0 },
    forward: { host: '127.0.0.1', port: deadPort },
    out,
  });
  const { port } = await rec.start();
  const errors: string[] = [];
  rec.on('streamError', (e) => errors.push(e.message));
  const clientEnd = await new Promise<string>((resolve) => {
    const s = connect({ host: '127.0.0.1', port }, () => s.write(Buffer.from('QEVM\0\0\0\x03')));
    s.on('error', (e) => resolve((e as NodeJS.ErrnoException).code ?? e.message));
    s.on('close', () => resolve('closed'));
  });
  await rec.whenIdle(5000);
  const stats = await rec.stop();
  assert.ok(['ECONNRESET', 'closed', 'EPIPE'].includes(clientEnd), `client saw ${clientEnd}`);
  assert.equal(errors.length, 1);
  assert.match(errors[0], /refused the connection \(ECONNREFUSED\)/);
  assert.match(errors[0], new RegExp(`127\\.0\\.0\\.1:${deadPort}`));
  assert.match(stats.streams[0].closeReason ?? '', /^error: connect to 127\.0\.0\.1:\d+ failed: ECONNREFUSED$/);
  const cap = await openCapture(out);
  try {
    assert.equal(cap.streams.length, 1);
    assert.match(cap.streams[0].closeReason ?? '', /ECONNREFUSED/);
    assert.equal(cap.streams[0].toDestination.length, 0, 'nothing was forwarded, so nothing is recorded');
    // The only diagnostic is the one that reports the failed stream itself.
    assert.deepEqual(
      cap.diagnostics.map((d) => d.code),
      ['capture.stream-reset'],
    );
  } finally {
    await cap.source.close();
  }
});

test('a real source QEMU whose destination is down: the migration fails cleanly, the capture is readable', async () => {
  const out = join(dir, 'refused-qemu.mfd');
  const deadPort = await freePort();
  const rec = new Recorder({
    listen: { host: '127.0.0.1', port: 0 },
    forward: { host: '127.0.0.1', port: deadPort },
    out,
  });
  const { port } = await rec.start();
  const errors: string[] = [];
  rec.on('streamError', (e) => errors.push(e.message));
  const r = await runMigration({
    qemu: '10.0',
    channels: 2,
    compression: 'none',
    ramMiB: 32,
    live: false,
    workDir: join(dir, 'refused-qemu'),
    viaPort: port,
    timeoutMs: 20_000,
  });
  await rec.whenIdle(5000);
  await rec.stop();
  assert.equal(r.status, 'failed');
  assert.ok(errors.length >= 1 && errors.every((e) => /refused the connection/.test(e)), errors.join('\n'));
  const cap = await openCapture(out);
  try {
    assert.ok(cap.streams.length >= 1);
    for (const s of cap.streams) assert.match(s.closeReason ?? '', /ECONNREFUSED/);
    assert.equal(cap.diagnostics.filter((d) => d.code === 'capture.truncated-record').length, 0);
  } finally {
    await cap.source.close();
  }
  await removeWorkDir(r);
});

test('mfd record refuses to overwrite an existing capture without --force', async () => {
  const { recordCommand } = await import('../../extension/cli/commands/record');
  const out = join(dir, 'exists.mfd');
  await fsp.writeFile(out, 'keep me');
  let err = '';
  const code = await recordCommand.run(['--listen', '127.0.0.1:0', '--forward', '127.0.0.1:1', '--out', out], {
    out: () => undefined,
    err: (t) => (err += t),
    interactive: false,
  });
  assert.equal(code, 2);
  assert.match(err, /exists; use --force/);
  assert.equal(await fsp.readFile(out, 'utf8'), 'keep me');
});
