import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MemoryByteSource } from './fileAccessor';
import { openCaptureFromSource } from './openCapture';
import { MfdBuilder } from './mfdWriter';

test('property: each stream read back from a .mfd is the concatenation of its DATA records, per direction, at any read range', async () => {
  const rec = fc.record({
    stream: fc.integer({ min: 0, max: 3 }),
    back: fc.boolean(),
    bytes: fc.uint8Array({ maxLength: 64 }),
  });
  await fc.assert(
    fc.asyncProperty(fc.array(rec, { maxLength: 20 }), fc.nat(), fc.nat(), async (recs, x, y) => {
      const b = new MfdBuilder();
      const want = new Map<string, number[]>();
      for (const r of recs) {
        b.data(r.stream, r.bytes, r.back ? 'toSource' : 'toDestination');
        const k = `${r.stream}/${r.back}`;
        want.set(k, [...(want.get(k) ?? []), ...r.bytes]);
      }
      const cap = await openCaptureFromSource(new MemoryByteSource(b.build()));
      assert.deepEqual(cap.diagnostics, []);
      for (const s of cap.streams) {
        for (const back of [false, true]) {
          const bytes = want.get(`${s.id}/${back}`) ?? [];
          const sb = back ? s.toSource : s.toDestination;
          assert.equal(sb.length, bytes.length);
          const a = bytes.length ? x % bytes.length : 0;
          const e = a + (bytes.length ? y % (bytes.length - a + 1) : 0);
          assert.deepEqual([...(await sb.read(a, e))], bytes.slice(a, e));
        }
      }
    }),
    { numRuns: 100, seed: 3 },
  );
});
