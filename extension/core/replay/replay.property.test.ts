import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { MemoryByteSource } from '../capture/fileAccessor';
import { openCaptureFromSource } from '../capture/openCapture';
import { MfdBuilder } from '../capture/mfdWriter';
import { analyzeCapture } from '../analysis';
import { MainStreamEncoder } from '../../../test/support/mainchannel/mainStreamEncoder';
import { page } from '../../../test/support/multifdEncoder';
import { encodeSenderCase, senderCase } from '../../../test/support/senderArbitrary';
import { replayCapture } from './replay';

test('property: replay of any sender version rebuilds exactly the pages encoded, last write winning', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mfd-replay-prop-'));
  let n = 0;
  try {
    await fc.assert(
      fc.asyncProperty(senderCase(), async (c) => {
        const main = new MainStreamEncoder()
          .header()
          .sectionStart(2, 'ram')
          .memSize(c.blocks.map((name) => ({ name, usedLength: c.blockPages * c.pageSize })))
          .eos()
          .footer(2)
          .sectionEnd(2)
          .eos()
          .footer(2)
          .eof();
        const file = new MfdBuilder()
          .meta({ pageSize: c.pageSize })
          .data(0, main.bytes())
          .data(1, await encodeSenderCase(c))
          .build();
        const a = await analyzeCapture(await openCaptureFromSource(new MemoryByteSource(file)));
        const r = await replayCapture(a, { outDir: join(dir, String(n++)), workers: false });
        assert.deepEqual(
          r.diagnostics.filter((d) => d.severity === 'error' && d.code.startsWith('replay.')),
          [],
        );
        const expected = c.blocks.map(() => new Uint8Array(c.blockPages * c.pageSize));
        for (const o of c.ops) {
          if (o.kind !== 'packet') continue;
          for (const p of o.normal) expected[o.block].set(page(c.pageSize, o.seed + p), p * c.pageSize);
          for (const p of o.zero) expected[o.block].fill(0, p * c.pageSize, (p + 1) * c.pageSize);
        }
        c.blocks.forEach((name, i) => {
          const b = r.blocks.find((x) => x.name === name)!;
          assert.ok(Buffer.from(readFileSync(b.file)).equals(Buffer.from(expected[i])), `block ${name}`);
        });
      }),
      { numRuns: 40, seed: 7 },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
