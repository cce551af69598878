import fc from 'fast-check';
import { MultifdChannelEncoder, page, type SenderVersion } from './multifdEncoder';

/** One step of a sender: a packet of pages (normal, and zero from 9.0 on) or a SYNC. */
export type SenderOp =
  { kind: 'sync' } | { kind: 'packet'; block: number; normal: number[]; zero: number[]; sync: boolean; seed: number };

export interface SenderCase {
  version: SenderVersion;
  method: 'none' | 'zlib';
  pageSize: number;
  blocks: string[];
  blockPages: number;
  ops: SenderOp[];
}

const VERSIONS: SenderVersion[] = ['7.2', '8.2', '9.0', '9.2', '10.0'];

/** Random channels as each QEMU release's sender would write them (distinct page indices inside a packet). */
export function senderCase(): fc.Arbitrary<SenderCase> {
  return fc
    .record({
      version: fc.constantFrom(...VERSIONS),
      method: fc.constantFrom('none' as const, 'zlib' as const),
      pageSize: fc.constantFrom(4096, 16384, 65536),
      blocks: fc.uniqueArray(fc.stringMatching(/^[a-z][a-z0-9.@/_-]{0,20}$/), { minLength: 1, maxLength: 3 }),
      blockPages: fc.integer({ min: 4, max: 40 }),
      raw: fc.array(
        fc.record({
          sync: fc.boolean(),
          block: fc.nat(),
          pages: fc.uniqueArray(fc.nat(), { maxLength: 12 }),
          zeroSplit: fc.nat(),
          syncOnPage: fc.boolean(),
          seed: fc.nat(),
        }),
        { maxLength: 8 },
      ),
    })
    .map(({ version, method, pageSize, blocks, blockPages, raw }) => {
      const old = version === '7.2' || version === '8.2';
      const ops: SenderOp[] = raw.map((r) => {
        if (r.sync) return { kind: 'sync' };
        // A packet holds at most page_count = 512 KiB / page size pages.
        const idx = [...new Set(r.pages.map((p) => p % blockPages))].slice(0, 524288 / pageSize);
        const split = old ? idx.length : r.zeroSplit % (idx.length + 1);
        return {
          kind: 'packet',
          block: r.block % blocks.length,
          normal: idx.slice(0, split),
          zero: idx.slice(split),
          sync: old && r.syncOnPage,
          seed: r.seed,
        };
      });
      return { version, method, pageSize, blocks, blockPages, ops };
    });
}

/** Encodes a case; returns the channel bytes and packet numbers used. */
export async function encodeSenderCase(c: SenderCase): Promise<Uint8Array> {
  const e = new MultifdChannelEncoder({ version: c.version, pageSize: c.pageSize, channelId: 0, method: c.method });
  let num = 0;
  e.sync(num++);
  for (const op of c.ops) {
    if (op.kind === 'sync') e.sync(num++);
    else {
      await e.packet({
        ramblock: c.blocks[op.block],
        normal: op.normal.map((p) => ({ offset: p * c.pageSize, data: page(c.pageSize, op.seed + p) })),
        zero: op.zero.map((p) => p * c.pageSize),
        sync: op.sync,
        packetNum: num++,
      });
    }
  }
  e.sync(num++);
  return e.bytes();
}
