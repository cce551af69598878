import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runMigration, removeWorkDir, type MigrationResult } from './migration';
import { CASES } from './cases';
import { qemuAvailable } from './qemuBinaries';
import { compareRamFiles } from './guestRam';
import { freePort } from './qemuProcess';
import { startFreshDestination } from './freshDestination';
import { openCapture } from '../../extension/core/capture/openCapture';

/**
 * Send-and-compare: every case of the matrix is recorded, then `mfd send --qmp` plays the capture into a fresh
 * destination QEMU started with the recorded command line. The migration must complete and the fresh
 * destination's RAM must equal the recorded source's: proof that a capture holds everything the destination needs.
 */
const ROOT = resolve(__dirname, '..', '..');
const MFD = join(ROOT, 'dist', 'mfd.js');

before(() => {
  assert.ok(existsSync(MFD), `${MFD} is missing: run npm run build`);
  assert.ok(qemuAvailable('7.2') && spawnSync('qemu-system-x86_64', ['--version']).status === 0, 'QEMU 10.0 and 7.2 are needed: run bash scripts/setup.sh');
});

for (const c of CASES) {
  describe(`mfd send: real QEMU ${c.name}`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'mfd-send-'));
    const capture = join(dir, 'capture.mfd');
    let result: MigrationResult;

    before(async () => {
      result = await runMigration({ ...c, out: capture, workDir: join(dir, 'vm') });
    });
    after(async () => {
      if (result) await removeWorkDir(result);
      rmSync(dir, { recursive: true, force: true });
    });

    test('a fresh destination fed by mfd send completes, and its RAM equals the recorded source RAM', async () => {
      assert.equal(result.status, 'completed', `the recorded migration itself: ${result.error}`);
      const cap = await openCapture(capture);
      const meta = cap.meta;
      await cap.source.close();
      const dst = await startFreshDestination(meta, dir);
      let run: ReturnType<typeof spawnSync>;
      let json: any;
      try {
        const port = await freePort();
        run = spawnSync(process.execPath, [MFD, 'send', capture, '--to', `127.0.0.1:${port}`, '--qmp', dst.qmpSocket, '--timeout', '60', '--json'], { encoding: 'utf8', timeout: 180_000, maxBuffer: 64 << 20 });
        try {
          json = JSON.parse(String(run.stdout));
        } catch {
          json = undefined;
        }
      } finally {
        await dst.stop();
      }
      const why = `exit ${run.status}: ${String(run.stderr)}\n${json ? JSON.stringify({ problems: json.problems, streams: json.streams, qmp: json.qmp }) : String(run.stdout).slice(0, 2000)}\ndestination stderr: ${dst.stderr()}`;
      assert.equal(run.status, 0, why);
      assert.equal(json.qmp.outcome.status, 'completed', why);
      assert.equal(json.streams.length, c.channels + 1);
      for (const s of json.streams) assert.equal(s.sent, s.bytes, `stream ${s.id}`);
      assert.deepEqual(await compareRamFiles(dst.ramFile, result.sourceRam), { equal: true, sizeA: c.ramMiB << 20, sizeB: c.ramMiB << 20, differingPages: 0 });
    });
  });
}
