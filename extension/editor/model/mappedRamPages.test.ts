import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeCaptureFile } from '../../core/analysis';
import { CaptureModel } from './captureModel';
import { mappedRamImage } from '../../../test/support/inputs/mappedRamImage';

const PS = 4096;

test('a mapped-ram image in the editor: the page map follows the bitmap, a page names the image as its writer', async () => {
  const present = new Map([
    [2, new Uint8Array(PS).fill(3)],
    [300, new Uint8Array(PS).fill(4)],
  ]);
  const path = join(mkdtempSync(join(tmpdir(), 'mfd-editor-mapped-')), 'image');
  writeFileSync(
    path,
    mappedRamImage({
      blocks: [{ name: 'pc.ram', pages: 512, present, stale: new Map([[3, new Uint8Array(PS).fill(9)]]) }],
    }),
  );
  const m = new CaptureModel(await analyzeCaptureFile(path));
  try {
    const map = await m.pageMap('pc.ram');
    assert.equal(map.states[2], 1, 'present: normal');
    assert.equal(map.states[300], 1, 'present: normal');
    assert.equal(map.states[3], 0, 'bit clear (stale bytes in its slot): never written');
    const writers = await m.pageWriters('pc.ram', 300 * PS);
    assert.equal(writers.length, 1);
    assert.equal(writers[0].kind, 'mapped-ram');
    assert.match(writers[0].label, /from the mapped-ram image \(its bitmap bit set\), read in place: replay window 1/);
  } finally {
    await m.dispose();
  }
});
