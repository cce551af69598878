import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { analyzeCaptureFile } from '../core/analysis';
import { DiagnosticSink } from '../core/diagnostics/diagnostic';
import { ReplayEngine } from '../core/replay/replayEngine';
import { pageCountOf, ReplayCursor } from './replayCursor';

const CAPTURE = resolve(__dirname, '../../test/debug/fixtures/qemu7.2-zlib-2ch-live.mfd');

async function snapshot(
  read: (b: string, o: number, n: number) => Promise<Uint8Array>,
  blocks: Iterable<[string, { image: { size: number } }]>,
): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const [name, b] of blocks) out.set(name, Buffer.from(await read(name, 0, b.image.size)));
  return out;
}

test('cursor: back and forth by pages and entries gives the engine-alone RAM at every entry boundary', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mfd-cursor-'));
  try {
    const a = await analyzeCaptureFile(CAPTURE);
    const cursor = new ReplayCursor(
      await ReplayEngine.create(a, new DiagnosticSink(), { outDir: join(dir, 'c'), force: true, workers: false }),
      new DiagnosticSink(),
      { maxUndoBytes: 16 << 10 },
    );
    const plain = await ReplayEngine.create(a, new DiagnosticSink(), {
      outDir: join(dir, 'p'),
      force: true,
      workers: false,
    });
    try {
      const checkpoints: number[] = [0, 1, 2, 40, 400, 700, a.schedule.length - 1];
      for (const k of checkpoints) {
        // The engine alone, to entry k.
        while (plain.position <= k) await plain.step();
        const want = await snapshot((b, o, n) => plain.read(b, o, n), plain.images);
        // The cursor: page by page into entry k, a few pages back, an entry back and forth, then to its end.
        while (cursor.position.entry < k) await cursor.forwardEntry();
        const e = cursor.current;
        assert.ok(e, `no current entry after moving to entry ${k}`);
        assert.equal(e.step, k);
        await cursor.setPagesApplied(0);
        for (let p = 0; p < Math.min(3, pageCountOf(e)); p++) await cursor.forwardPage();
        if (cursor.position.pages > 1) await cursor.backwardPage();
        if (cursor.canStepBack && k > 0) {
          await cursor.backwardEntry();
          await cursor.forwardEntry();
        }
        await cursor.setPagesApplied(pageCountOf(e));
        assert.equal(cursor.position.entry, k);
        const got = await snapshot((b, o, n) => cursor.read(b, o, n), cursor.engine.images);
        for (const [name, bytes] of want) assert.ok(got.get(name)?.equals(bytes), `${name} differs at entry ${k}`);
      }
      // The log is bounded: early entries can no longer be undone.
      assert.ok(cursor.oldestReachable.entry > 0, `oldest reachable ${JSON.stringify(cursor.oldestReachable)}`);
    } finally {
      await cursor.engine.close();
      await plain.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
