import assert from 'node:assert/strict';
import { it } from 'node:test';
import { createReceiver } from './receiver';
import { ReceiveError } from './receiveError';
import { page } from '../../../../test/support/multifdEncoder';
import { qatzipPayload, qplPayload, uadkPayload } from '../../../../test/support/hardwareCompression/pagePayloads';

const PS = 4096;
const pages = Array.from({ length: 24 }, (_, i) =>
  page(PS, i, (['pattern', 'random', 'one-byte', 'zero'] as const)[i % 4]),
);

/** xorshift32: the same mutations on every run. */
function rng(seed: number) {
  let x = seed >>> 0 || 1;
  return (n: number) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
}

function mutate(p: Uint8Array, r: (n: number) => number): Uint8Array {
  const q = new Uint8Array(p);
  switch (r(4)) {
    case 0: // flip bits anywhere (size arrays, headers, deflate data)
      for (let k = 1 + r(4); k > 0; k--) q[r(q.length)] ^= 1 << r(8);
      return q;
    case 1: // cut short
      return q.subarray(0, r(q.length));
    case 2: // a size or QZ field set to something hostile
      new DataView(q.buffer).setUint32(4 * r(Math.min(8, q.length >> 2)), [0, 1, PS - 1, PS, PS + 1, 0xffffffff][r(6)]);
      return q;
    default: // bytes appended
      return Uint8Array.from([...q, ...Array.from({ length: 1 + r(40) }, () => r(256))]);
  }
}

it('mutated qpl, uadk and qatzip payloads decode to exactly their pages or fail with a ReceiveError, never anything else', async () => {
  const cases = [
    { method: 'qpl' as const, bytes: qplPayload(pages, PS).bytes },
    { method: 'uadk' as const, bytes: uadkPayload(pages, PS, { hardware: true }).bytes },
    { method: 'qatzip' as const, bytes: qatzipPayload(pages).bytes },
  ];
  const r = rng(0x5eed);
  let failures = 0;
  for (const c of cases) {
    const receiver = createReceiver(c.method, PS);
    for (let i = 0; i < 300; i++) {
      const bad = mutate(c.bytes, r);
      try {
        const out = await receiver.receive(bad, pages.length);
        assert.equal(out.length, pages.length * PS, `${c.method} mutation ${i}`);
      } catch (e) {
        assert.ok(e instanceof ReceiveError, `${c.method} mutation ${i}: ${String(e)}`);
        assert.ok(
          e.page === undefined || (e.page >= 0 && e.page < pages.length),
          `${c.method} mutation ${i}: page ${e.page}`,
        );
        failures++;
      }
    }
  }
  // Most mutations must be caught; a flipped bit in a raw page legitimately decodes.
  assert.ok(failures > 450, `only ${failures} of 900 mutations failed`);
});
