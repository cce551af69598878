import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from './mfd';
import type { CliIo } from './cliCommand';
import { writeSmallCapture } from '../../test/support/smallCapture';
import { makeLargeCapture } from '../../test/support/makeLargeCapture';

const dir = mkdtempSync(join(tmpdir(), 'mfd-replay-out-'));
const MFD = join(__dirname, 'mfd.ts');
/** What the output folder holds while a replay runs (the lock) and after one that did not finish (the marker). */
const LOCK_FILE = '.mfd-replay.lock';
const INCOMPLETE_MARKER = 'REPLAY-INCOMPLETE.json';

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CliIo = { out: (t) => (out += t), err: (t) => (err += t), interactive: false };
  const code = await main(argv, io);
  return { code, out, err };
}

/** A tmpfs of `size` at a fresh folder, or undefined when this machine cannot mount (not root, no CAP_SYS_ADMIN). */
function tmpfs(options: string): { path: string; unmount(): void } | undefined {
  const path = mkdtempSync(join(dir, 'mnt-'));
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', path], { encoding: 'utf8' });
  if (r.status !== 0) return undefined;
  return { path, unmount: () => void spawnSync('umount', [path]) };
}

test('replay refuses an output that is the reference itself (same device and inode), exit 2, reference untouched', async () => {
  const cap = await writeSmallCapture(join(dir, 'ref-self.mfd'));
  const out = join(dir, 'ref-self');
  assert.equal((await run('replay', cap, '--out', out)).code, 0);
  const before = readFileSync(join(out, 'pc.ram.ram'));
  const r = await run('replay', cap, '--out', out, '--force', '--reference', `pc.ram=${join(out, 'pc.ram.ram')}`);
  assert.equal(r.code, 2, r.out + r.err);
  assert.match(r.err, /pc\.ram.* is the reference .*same file/);
  assert.ok(readFileSync(join(out, 'pc.ram.ram')).equals(before), 'the reference keeps its bytes');
});

test('replay refuses to overwrite the capture it reads (stored in --out under an image name), exit 2', async () => {
  const out = join(dir, 'cap-self');
  mkdirSync(out);
  const cap = await writeSmallCapture(join(out, 'pc.ram.ram'));
  const before = readFileSync(cap);
  const r = await run('replay', cap, '--out', out, '--force');
  assert.equal(r.code, 2, r.out + r.err);
  assert.match(r.err, /is the capture .*same file/);
  assert.ok(readFileSync(cap).equals(before), 'the capture keeps its bytes');
});

test('replay into an output folder that cannot be written: exit 2, "cannot write to DIR"', async (t) => {
  const ro = tmpfs('ro,size=1m');
  if (!ro) return t.skip('mount -t tmpfs is not permitted here');
  try {
    const cap = await writeSmallCapture(join(dir, 'ro.mfd'));
    const r = await run('replay', cap, '--out', ro.path);
    assert.equal(r.code, 2, r.out + r.err);
    assert.match(r.err, new RegExp(`cannot write to ${ro.path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `));
    assert.doesNotMatch(r.out, /replayed/);
  } finally {
    ro.unmount();
  }
});

test('replay onto a full disk (ENOSPC): exit 1, the image named, JSON printed, the output marked incomplete', async (t) => {
  const small = tmpfs('size=1m');
  if (!small) return t.skip('mount -t tmpfs is not permitted here');
  try {
    const cap = await writeSmallCapture(join(dir, 'full.mfd'), 512); // 2 MiB of pages into 1 MiB
    const r = await run('replay', cap, '--out', small.path, '--json');
    assert.equal(r.code, 1, r.out + r.err);
    const j = JSON.parse(r.out);
    assert.equal(j.complete, false);
    assert.match(j.incomplete.reason, /cannot write .*pc\.ram.*ENOSPC/);
    assert.ok(
      j.diagnostics.some(
        (d: { code: string; message: string }) => d.code === 'replay.write-failed' && /pc\.ram/.test(d.message),
      ),
    );
    assert.ok(existsSync(join(small.path, INCOMPLETE_MARKER)), 'marker left in the folder');
    assert.equal(existsSync(join(small.path, LOCK_FILE)), false, 'lock released');
  } finally {
    small.unmount();
  }
});

test('a completed replay leaves no marker and no lock; an earlier marker is cleared', async () => {
  const cap = await writeSmallCapture(join(dir, 'clean.mfd'));
  const out = join(dir, 'clean');
  mkdirSync(out);
  writeFileSync(join(out, INCOMPLETE_MARKER), '{}');
  const r = await run('replay', cap, '--out', out, '--force', '--json');
  assert.equal(r.code, 0, r.err);
  assert.equal(JSON.parse(r.out).complete, true);
  assert.deepEqual(readdirSync(out), ['pc.ram.ram']);
});

test('concurrent --force replays into one folder: one runs, the other is refused (the folder is locked), exit 2', async () => {
  const cap = await writeSmallCapture(join(dir, 'lock.mfd'), 256);
  const out = join(dir, 'lock');
  const [a, b] = await Promise.all([
    run('replay', cap, '--out', out, '--force'),
    run('replay', cap, '--out', out, '--force'),
  ]);
  assert.deepEqual([a.code, b.code].sort(), [0, 2], a.err + b.err);
  assert.match(a.err + b.err, /is in use by another replay \(process \d+/);
});

test('a lock left by a process that is gone is stale: the replay takes it over', async () => {
  const cap = await writeSmallCapture(join(dir, 'stale.mfd'));
  const out = join(dir, 'stale');
  mkdirSync(out);
  const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  writeFileSync(join(out, LOCK_FILE), JSON.stringify({ pid: Number(gone.stdout), started: new Date().toISOString() }));
  const r = await run('replay', cap, '--out', out);
  assert.equal(r.code, 0, r.err);
  assert.equal(existsSync(join(out, LOCK_FILE)), false);
});

test('SIGTERM during a replay: it stops cleanly, exit 1, JSON says incomplete, the marker stays', async () => {
  const cap = join(dir, 'signal.mfd');
  await makeLargeCapture(cap, { packets: 40_000, channels: 2, normalEvery: 2 });
  const out = join(dir, 'signal');
  const child = spawn(process.execPath, ['--import', 'tsx', MFD, 'replay', cap, '--out', out, '--json'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c) => (stdout += c));
  child.stderr.on('data', (c) => (stderr += c));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  // The image appears once the replay starts writing; signal it then.
  while (!existsSync(join(out, 'pc.ram.ram')) && child.exitCode === null) await new Promise((r) => setTimeout(r, 10));
  child.kill('SIGTERM');
  const code = await exited;
  assert.equal(code, 1, `exit ${code}, signal ${child.signalCode}: ${stderr}`);
  const j = JSON.parse(stdout);
  assert.equal(j.complete, false);
  assert.match(j.incomplete.reason, /SIGTERM/);
  assert.ok(existsSync(join(out, INCOMPLETE_MARKER)));
  assert.equal(existsSync(join(out, LOCK_FILE)), false);
});
