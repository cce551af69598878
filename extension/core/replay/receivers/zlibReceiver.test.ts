import assert from 'node:assert/strict';
import * as zlib from 'node:zlib';
import { describe, it } from 'node:test';
import { createReceiver } from './receiver';
import { createZlibReceiver } from './zlibReceiver';
import { rejectsWith, replayChannel } from '../../../../test/support/receivers/receiverTestUtil';
import { PageSource, compressZlibChannel, planPages } from '../../../../test/support/receivers/testStreams';

const PLAN = [128, 0, 5, 128, 0, 0, 1, 77, 128, 3];

describe('zlib receiver', () => {
  for (const level of [1, 6, 9]) {
    it(`decodes a QEMU-style channel (level ${level}) packet by packet`, async () => {
      const sent = await compressZlibChannel(planPages(new PageSource(level, 4096, 10), PLAN), level);
      assert.deepEqual(
        [...sent.find((p) => p.pages.length)!.payload.subarray(0, 2)],
        level === 1 ? [0x78, 0x01] : [...sent[0].payload.subarray(0, 2)],
      );
      await replayChannel(createReceiver('zlib', 4096), sent, 4096);
    });
  }

  it('the stream-based fallback (for runtimes without the synchronous handle) decodes the same channel', async () => {
    const sent = await compressZlibChannel(planPages(new PageSource(4, 4096, 10), PLAN));
    await replayChannel(createZlibReceiver(4096, 'stream'), sent, 4096);
    await replayChannel(createZlibReceiver(4096, 'sync'), sent, 4096);
  });

  it('decodes 64 KiB pages', async () => {
    const sent = await compressZlibChannel(planPages(new PageSource(3, 65536), [8, 0, 3, 8, 1]));
    await replayChannel(createReceiver('zlib', 65536), sent, 65536);
  });

  it('decodes all-zero and all-random packets', async () => {
    const zero = [Array.from({ length: 128 }, () => new Uint8Array(4096))];
    const random = planPages(new PageSource(9, 4096, 100), [128, 128]);
    await replayChannel(createReceiver('zlib', 4096), await compressZlibChannel([...zero, ...random, ...zero]), 4096);
  });

  it('stops a bomb at normal_pages × page_size', async () => {
    const sent = await compressZlibChannel([
      [new Uint8Array(4096).fill(1)],
      Array.from({ length: 16384 }, () => new Uint8Array(4096)),
    ]);
    const r = createReceiver('zlib', 4096);
    await r.receive(sent[0].payload, 1);
    const before = process.memoryUsage().arrayBuffers;
    // 64 MiB of zeros claimed as one page.
    await rejectsWith(r.receive(sent[1].payload, 1), 'replay.output-size', /more than 4096 bytes/);
    assert.ok(process.memoryUsage().arrayBuffers - before < 16 << 20, 'inflated far past the bound');
    await rejectsWith(r.receive(sent[1].payload, 16384), 'replay.output-size', /earlier payload/);
  });

  it("reports corrupt data mid-stream with zlib's message, and stops the channel", async () => {
    const sent = await compressZlibChannel(planPages(new PageSource(4), [16, 16, 16]));
    const r = createReceiver('zlib', 4096);
    await r.receive(sent[0].payload, 16);
    const bad = sent[1].payload.slice();
    bad[0] = 0x06; // a block with the reserved type 3
    await rejectsWith(r.receive(bad, 16), 'replay.decompress', /^zlib: invalid block type$/);
    await rejectsWith(r.receive(sent[2].payload, 16), 'replay.decompress', /earlier payload.*invalid block type/);
  });

  it('reports a stream that is not zlib format', async () => {
    const raw = zlib.deflateRawSync(new Uint8Array(4096), { level: 1 });
    await rejectsWith(createReceiver('zlib', 4096).receive(raw, 1), 'replay.decompress', /incorrect header check/);
  });

  it('reports a truncated payload as too little output', async () => {
    const sent = await compressZlibChannel(planPages(new PageSource(5), [32, 32]));
    const r = createReceiver('zlib', 4096);
    await r.receive(sent[0].payload, 32);
    const p = sent[1].payload;
    await rejectsWith(r.receive(p.subarray(0, p.length >> 1), 32), 'replay.output-size', /expected 131072/);
  });

  it('reports more pages claimed than the payload holds', async () => {
    const sent = await compressZlibChannel(planPages(new PageSource(6), [8]));
    await rejectsWith(
      createReceiver('zlib', 4096).receive(sent[0].payload, 9),
      'replay.output-size',
      /32768 bytes, expected 36864/,
    );
  });
});
