// Writes the hostile device-state shapes of deviceStateShapes.ts into the fuzz corpus
// (test/fuzz/corpus/regressions/), each with a note saying what it checks. Run by hand when a shape changes:
//   node --import tsx test/fuzz/writeDeviceStateRegressions.ts
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEVICE_STATE_SHAPES } from './deviceStateShapes';

const dir = join(__dirname, 'corpus', 'regressions');
for (const [name, make, note] of DEVICE_STATE_SHAPES) {
  writeFileSync(join(dir, `${name}.mfd`), make());
  writeFileSync(join(dir, `${name}.txt`), note + '\n');
}
