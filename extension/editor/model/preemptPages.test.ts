import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeCaptureFile } from '../../core/analysis';
import { CaptureModel } from './captureModel';
import { PREEMPT_PS as PS, preemptCapture } from '../../../test/support/preemptCapture';

test('page writers: a page the preempt channel brought is named as its record, not linked to a main-channel row', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mfd-preempt-model-'));
  const path = join(dir, 'c.mfd');
  writeFileSync(path, preemptCapture());
  const m = new CaptureModel(await analyzeCaptureFile(path));
  try {
    const three = await m.pageWriters('pc.ram', 3 * PS);
    assert.deepEqual(three, [
      {
        block: 'pc.ram',
        kind: 'preempt-page',
        epoch: three[0]?.epoch,
        label: 'PAGE record in pc.ram: postcopy preempt channel (stream 1) RAM record 0, after the switch',
      },
    ]);
    // Page 1: the main channel's precopy PAGE, then the preempt channel's ZERO after the switch.
    const one = await m.pageWriters('pc.ram', PS);
    assert.deepEqual(
      one.map((w) => [w.kind, w.record]),
      [
        ['main-page', 3],
        ['preempt-zero', undefined],
      ],
    );
    const two = await m.pageWriters('pc.ram', 2 * PS);
    assert.deepEqual(
      two.map((w) => [w.kind, w.record]),
      [['main-page', 5]],
    );
  } finally {
    await m.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});
