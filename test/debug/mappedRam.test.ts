// A mapped-ram image through the replay debugger: each step is a window of pages read in place where the bitmap
// marks them, labelled as such, and stepping to the end rebuilds what `mfd replay` rebuilds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeCaptureFile } from '../../extension/core/analysis';
import { replayCapture } from '../../extension/core/replay/replay';
import { DapHarness } from './dapHarness';
import { expectedRam, mappedRamImage, type MappedBlockSpec } from '../support/inputs/mappedRamImage';

const PS = 4096;

test('stepping a mapped-ram image: windows of pages read in place, the same RAM as mfd replay', async () => {
  const root = mkdtempSync(join(tmpdir(), 'mfd-dap-mapped-'));
  try {
    const present = new Map<number, Uint8Array>();
    for (const p of [0, 5, 300, 301, 700]) present.set(p, new Uint8Array(PS).fill((p % 200) + 1));
    const block: MappedBlockSpec = {
      name: 'pc.ram',
      pages: 768,
      present,
      stale: new Map([[6, new Uint8Array(PS).fill(0xee)]]),
    };
    const capture = join(root, 'image.mapped');
    writeFileSync(capture, mappedRamImage({ blocks: [block] }));
    const ref = join(root, 'replay');
    await replayCapture(await analyzeCaptureFile(capture), { outDir: ref });
    const h = new DapHarness();
    await h.start();
    try {
      const stepped = join(root, 'stepped');
      await h.launch({ capture, stopOnEntry: true, outDir: stepped });
      const first = await h.move('next');
      assert.notEqual(first.body.reason, 'end');
      const seen = await h.inspect(first.body.threadId);
      assert.ok(
        seen.frames.some((f) => /^mapped-ram window 0 · pc\.ram/.test(f)),
        seen.frames.join(' | '),
      );
      const vars = Object.values(seen.scopes).find((v) => v.source !== undefined);
      assert.match(vars?.source ?? '', /mapped-ram image: pages whose bitmap bit is set, read in place/);
      for (let guard = 0; guard < 20; guard++) if ((await h.move('continue')).body.reason === 'end') break;
      const got = readFileSync(join(stepped, 'pc.ram.ram'));
      assert.ok(got.equals(readFileSync(join(ref, 'pc.ram.ram'))), 'the stepped image equals mfd replay’s');
      assert.ok(got.equals(expectedRam(block)), 'and the RAM the bitmap describes (the stale page is zero)');
    } finally {
      await h.stop();
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
