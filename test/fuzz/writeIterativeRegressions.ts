// Writes the hostile shapes of iterativeShapes.ts (dirty-bitmap, VFIO, an unknown iterative section) into the
// fuzz corpus (test/fuzz/corpus/regressions/), each with a note saying what it checks. Run by hand when a shape
// changes:
//   node --import tsx test/fuzz/writeIterativeRegressions.ts
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ITERATIVE_SHAPES } from './iterativeShapes';

const dir = join(__dirname, 'corpus', 'regressions');
for (const [name, make, note] of ITERATIVE_SHAPES) {
  writeFileSync(join(dir, `${name}.mfd`), make());
  writeFileSync(join(dir, `${name}.txt`), note + '\n');
}
