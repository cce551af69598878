import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createReceiver, nodeHasZstd } from './receiver';
import { rejectsWith } from '../../../../test/support/receivers/receiverTestUtil';

describe('createReceiver', () => {
  it('returns a receiver per method', () => {
    for (const m of ['none', 'zlib', 'zstd', 'qpl', 'uadk', 'qatzip'] as const) {
      const r = createReceiver(m, 4096);
      assert.equal(r.method, m);
      r.close();
    }
  });

  it('refuses the node zstd path where node:zlib has no zstd', { skip: nodeHasZstd() }, () => {
    assert.throws(() => createReceiver('zstd', 4096, { zstdImplementation: 'node' }), /no zstd/);
  });
});

describe('nocomp receiver', () => {
  it('returns the payload as the pages', async () => {
    const r = createReceiver('none', 4096);
    const payload = new Uint8Array(3 * 4096).map((_, i) => i * 7);
    assert.equal(await r.receive(payload, 3), payload);
    assert.equal((await r.receive(payload, 0)).length, 0);
  });

  it('reports a payload of the wrong size', async () => {
    const r = createReceiver('none', 4096);
    await rejectsWith(r.receive(new Uint8Array(4095), 1), 'replay.output-size', /4095 bytes, expected 4096/);
  });
});

describe('per-page and gzip-run methods', () => {
  for (const m of ['qpl', 'uadk', 'qatzip'] as const) {
    it(`${m}: a packet without normal pages has no payload and decodes to nothing`, async () => {
      const r = createReceiver(m, 4096);
      assert.equal((await r.receive(new Uint8Array(0), 0)).length, 0);
      // A stale next_packet_size on an empty packet is never looked at.
      assert.equal((await r.receive(new Uint8Array(10), 0)).length, 0);
    });
  }
});
