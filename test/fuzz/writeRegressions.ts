// Writes the hostile shapes of hostileShapes.ts into the fuzz corpus (test/fuzz/corpus/regressions/), each with a
// note saying what went wrong before. Run by hand when a shape changes:
//   node --import tsx test/fuzz/writeRegressions.ts
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { manyRamblockNamesCapture, sparseZeroPagesCapture } from './hostileShapes';

const dir = join(__dirname, 'corpus', 'regressions');

async function main(): Promise<void> {
  const cases: [string, Uint8Array, string][] = [
    [
      'memory-provenance-sparse-zero-pages',
      await sparseZeroPagesCapture(20_000),
      '20,000 zero pages spread over a 15 TiB ramblock: the page-provenance map allocated a 16 KiB region per page (312 MiB here, 4.4 GB for a 2.7 MB capture). Fixed: scattered pages live in a hash, about 25 bytes each.',
    ],
    [
      'files-many-ramblock-names',
      await manyRamblockNamesCapture(260),
      '260 distinct ramblock names and no main channel: replay opened one image file per name (2,000 names hit EMFILE and left 1,004 files). Fixed: at most 256 images, replay.too-many-blocks for the rest.',
    ],
  ];
  for (const [name, bytes, note] of cases) {
    writeFileSync(join(dir, `${name}.mfd`), bytes);
    writeFileSync(join(dir, `${name}.txt`), note + '\n');
  }
}

void main();
