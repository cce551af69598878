import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MemoryByteSource } from '../capture/fileAccessor';
import { StreamBytes } from '../capture/streamBytes';
import { DiagnosticSink } from '../diagnostics/diagnostic';
import { StringTable } from '../util/growableArrays';
import { indexMultifdStream } from './indexMultifdStream';
import { readPacket, type DecodedPacket } from './readPacket';
import { encodeSenderCase, senderCase } from '../../../test/support/senderArbitrary';

test('property: for every sender version, the index returns exactly the packets encoded', async () => {
  await fc.assert(
    fc.asyncProperty(senderCase(), async (c) => {
      const bytes = await encodeSenderCase(c);
      const stream = StreamBytes.contiguous(new MemoryByteSource(bytes), 0, bytes.length);
      const sink = new DiagnosticSink();
      const names = new StringTable();
      const ramblocks = new Map(c.blocks.map((b) => [b, c.blockPages * c.pageSize]));
      const idx = await indexMultifdStream(stream, 1, { pageSize: c.pageSize, ramblocks, names, sink });
      assert.equal(idx.complete, true);
      assert.deepEqual(
        sink.items.filter((d) => d.severity === 'error'),
        [],
      );
      const withPages: DecodedPacket[] = [];
      for (let i = 0; i < idx.packets.length; i++) {
        const r = idx.packets.row(i);
        if (r.normalPages + r.zeroPages > 0) withPages.push(await readPacket(stream, idx.packets, i, c.pageSize));
      }
      const encoded = c.ops.filter((o) => o.kind === 'packet' && o.normal.length + o.zero.length > 0);
      assert.equal(withPages.length, encoded.length);
      encoded.forEach((o, k) => {
        if (o.kind !== 'packet') return;
        const p = withPages[k];
        assert.equal(p.summary.ramblock, c.blocks[o.block]);
        assert.deepEqual(
          p.normalOffsets,
          o.normal.map((x) => x * c.pageSize),
        );
        assert.deepEqual(
          p.zeroOffsets,
          o.zero.map((x) => x * c.pageSize),
        );
      });
      const syncs = 2 + c.ops.filter((o) => o.kind === 'sync' || o.sync).length;
      assert.equal(idx.syncPackets, syncs);
      assert.equal(
        idx.normalPages,
        encoded.reduce((n, o) => n + (o.kind === 'packet' ? o.normal.length : 0), 0),
      );
      assert.equal(
        idx.zeroPages,
        encoded.reduce((n, o) => n + (o.kind === 'packet' ? o.zero.length : 0), 0),
      );
    }),
    { numRuns: 60, seed: 42 },
  );
});
