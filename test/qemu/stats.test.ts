import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runMigration, removeWorkDir, type MigrationResult } from './migration';
import { analyzeCaptureFile } from '../../extension/core/analysis';
import { buildCaptureStats } from '../../extension/core/stats/captureStats';
import type { CaptureStats } from '../../extension/core/stats/statsTypes';

/**
 * `mfd stats` on a real postcopy migration (QEMU 10.0, no multifd, live guest): the phases around the switch, and
 * the postcopy phase's bytes against QEMU's own count of what it sent in postcopy (`postcopy-bytes`: the RAM
 * records, so the phase holds those plus a few section headers and footers). The precopy counts are checked
 * against a separate reading in extension/core/stats/captureStats.test.ts and test/qemu/diff.test.ts.
 */

describe('mfd stats: a real QEMU 10.0 postcopy migration', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mfd-stats-postcopy-'));
  let result: MigrationResult;
  let stats: CaptureStats;
  before(async () => {
    result = await runMigration({
      qemu: '10.0',
      channels: 0,
      compression: 'none',
      ramMiB: 32,
      live: true,
      postcopy: {},
      out: join(dir, 'postcopy.mfd'),
    });
    const a = await analyzeCaptureFile(result.capture!);
    try {
      stats = await buildCaptureStats(a);
    } finally {
      await a.capture.source.close();
    }
  });
  after(async () => {
    if (result) await removeWorkDir(result);
    rmSync(dir, { recursive: true, force: true });
  });

  test('the migration switched to postcopy', () => {
    assert.equal(result.status, 'completed', result.error);
    assert.ok(Number(result.sourceInfo.ram?.['postcopy-bytes'] ?? 0) > 0);
  });

  test('phases: setup, the iterations, the switchover up to POSTCOPY_RUN, postcopy, the end', (t) => {
    const names = stats.phases.map((p) => p.name);
    const iterations = names.filter((n) => n === 'iteration').length;
    assert.ok(iterations >= 1);
    assert.deepEqual(names, ['setup', ...Array<string>(iterations).fill('iteration'), 'switchover', 'postcopy', 'end']);
    const sw = stats.phases[iterations + 1];
    const pc = stats.phases[iterations + 2];
    assert.equal(pc.startOffset, sw.endOffset);
    assert.ok(sw.deviceState, 'the device state is in the switchover');
    assert.equal(stats.derived.downtime?.end, sw.end);
    // QEMU counts the RAM records it sent while in postcopy; the phase adds only section framing (PING, section
    // headers, EOS, footers).
    const postcopyBytes = Number(result.sourceInfo.ram?.['postcopy-bytes']);
    const phaseBytes = pc.endOffset - pc.startOffset;
    assert.ok(
      phaseBytes >= postcopyBytes && phaseBytes - postcopyBytes <= 256,
      `postcopy phase ${phaseBytes} bytes, QEMU's postcopy-bytes ${postcopyBytes}`,
    );
    assert.ok(stats.returnPath.some((m) => m.name === 'SHUT'));
    t.diagnostic(
      `${iterations} iterations; postcopy phase ${phaseBytes} bytes, postcopy-bytes ${postcopyBytes}; downtime ${((stats.derived.downtime?.duration ?? 0) / 1e6).toFixed(2)} ms (QEMU's own ${result.timings.downtimeMs} ms)`,
    );
  });
});
