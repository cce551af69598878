// Stepping a real capture to the end through the adapter, with breakpoints, page steps and reverse steps on
// the way, rebuilds byte for byte the RAM that `mfd replay` (replayCapture) rebuilds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeCaptureFile } from '../../extension/core/analysis';
import { replayCapture } from '../../extension/core/replay/replay';
import { DapHarness, NONE_10, ZLIB_72_LIVE } from './dapHarness';

function sameImages(a: string, b: string): void {
  const files = readdirSync(a)
    .filter((f) => f.endsWith('.ram'))
    .sort();
  assert.deepEqual(
    readdirSync(b)
      .filter((f) => f.endsWith('.ram'))
      .sort(),
    files,
  );
  assert.ok(files.length > 0);
  for (const f of files)
    assert.ok(readFileSync(join(a, f)).equals(readFileSync(join(b, f))), `${f} differs from mfd replay's`);
}

for (const [name, capture] of [
  ['QEMU 7.2 zlib live (main-channel ZERO records, 9 epochs)', ZLIB_72_LIVE],
  ['QEMU 10.0 nocomp', NONE_10],
] as const) {
  test(`stepping ${name} to the end with breakpoints rebuilds the same RAM as mfd replay`, async () => {
    const root = mkdtempSync(join(tmpdir(), 'mfd-dap-exact-'));
    try {
      const ref = join(root, 'replay');
      await replayCapture(await analyzeCaptureFile(capture), { outDir: ref, force: true });
      const h = new DapHarness();
      await h.start();
      try {
        const stepped = join(root, 'stepped');
        await h.launch({ capture, stopOnEntry: true, outDir: stepped, maxUndoMiB: 1 }, async () => {
          await h.dc.setFunctionBreakpointsRequest({
            breakpoints: [{ name: 'mem:0x7000' }, { name: 'epoch == 3', hitCondition: '2' }],
          });
          await h.dc.customRequest('setDataBreakpoints', {
            breakpoints: [
              { dataId: 'zero:0x8000:mem', accessType: 'write' },
              { dataId: 'write:0x0:pc.bios', accessType: 'write' },
            ],
          });
        });
        let stops = 0;
        let back = 0;
        for (let guard = 0; guard < 200; guard++) {
          const s = await h.move(guard % 3 === 0 ? 'stepIn' : guard % 5 === 0 ? 'stepOut' : 'continue');
          stops++;
          if (s.body.reason === 'end') break;
          if (guard % 4 === 1) {
            // Undo a little and come back: redo must not decode again, and must restore RAM exactly.
            const b = await h.move(guard % 8 === 1 ? 'stepBack' : 'reverseContinue');
            if (b.body.reason !== 'entry') back++;
          }
        }
        const v = await h.inspect(1);
        assert.match(v.scopes.Epoch['page writes applied'], /^(\d+) of \1$/);
        assert.ok(stops > 3 && back > 0, `stops ${stops}, back ${back}`);
        console.log(`${name}: ${stops} stops, ${back} reverse moves`);
        await h.stop();
        sameImages(ref, stepped);
      } finally {
        await h.stop().catch(() => undefined);
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
}
