import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs, { mkdtempSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryByteSource } from '../capture/fileAccessor';
import { openCaptureFromSource } from '../capture/openCapture';
import { analyzeCapture } from '../analysis';
import { smallCapture } from '../../../test/support/smallCapture';
import { replayCapture } from './replay';

test('a reference that shrinks while it is compared gives no comparison, an error instead of stale mismatches', async () => {
  const a = await analyzeCapture(await openCaptureFromSource(new MemoryByteSource(await smallCapture(2048)))); // 8 MiB: two chunks
  const dir = mkdtempSync(join(tmpdir(), 'mfd-cmpshrink-'));
  const ref = join(dir, 'ref.ram');
  writeFileSync(ref, new Uint8Array(2048 * 4096));
  const realOpen = fs.promises.open;
  // Cut the reference once it has been opened and sized by the comparison.
  (fs.promises as { open: unknown }).open = async (...args: Parameters<typeof realOpen>) => {
    const h = await realOpen(...args);
    if (args[0] === ref) {
      const stat = h.stat.bind(h);
      h.stat = (async (...s: Parameters<typeof h.stat>) => {
        const r = await stat(...s);
        truncateSync(ref, 4096 * 1500);
        return r;
      }) as typeof h.stat;
    }
    return h;
  };
  let r;
  try {
    r = await replayCapture(a, { outDir: join(dir, 'out'), workers: false, references: new Map([['pc.ram', ref]]) });
  } finally {
    (fs.promises as { open: unknown }).open = realOpen;
  }
  const d = r.diagnostics.find((x) => x.code === 'replay.mismatch');
  assert.ok(d, r.diagnostics.map((x) => x.code).join(', '));
  assert.match(d.message, /ref\.ram ended at byte 6144000 while it was compared/);
  assert.deepEqual(r.compare, []);
});
