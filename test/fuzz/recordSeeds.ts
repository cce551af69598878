// Records small real migrations (QEMU 10.0 and 7.2, each compression) and trims each into a fuzzing seed
// under test/fuzz/corpus/seeds/. Run once by hand when the seeds need refreshing:
//   node --import tsx test/fuzz/recordSeeds.ts [--packets N] [--main-bytes N]
import { promises as fsp, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runMigration, removeWorkDir, type Compression } from '../qemu/migration';
import { qemuAvailable, type QemuVersion } from '../qemu/qemuBinaries';
import { trimCapture } from './trimCapture';

const { values } = parseArgs({
  options: { packets: { type: 'string' }, 'main-bytes': { type: 'string' }, 'multifd-bytes': { type: 'string' } },
});
const packets = Number(values.packets ?? 6);
const mainBytes = Number(values['main-bytes'] ?? 16 * 1024);
const multifdBytes = Number(values['multifd-bytes'] ?? 12 * 1024);
const out = join(__dirname, 'corpus', 'seeds');

async function main(): Promise<void> {
  await fsp.mkdir(out, { recursive: true });
  const configs: { qemu: QemuVersion; compression: Compression }[] = [];
  for (const qemu of ['10.0', '7.2'] as const)
    for (const compression of ['none', 'zlib', 'zstd'] as const) configs.push({ qemu, compression });
  for (const c of configs) {
    if (!qemuAvailable(c.qemu)) {
      console.log(`skip ${c.qemu}: QEMU not installed`);
      continue;
    }
    const dir = mkdtempSync(join(tmpdir(), 'mfd-seed-'));
    const capture = join(dir, 'c.mfd');
    const r = await runMigration({
      qemu: c.qemu,
      channels: 2,
      compression: c.compression,
      ramMiB: 4,
      live: false,
      nonZeroFraction: 0.05,
      out: capture,
      workDir: join(dir, 'vm'),
    });
    if (r.status !== 'completed')
      throw new Error(`${c.qemu} ${c.compression}: migration ${r.status}: ${r.error ?? ''}`);
    const seed = await trimCapture(readFileSync(capture), { packets, mainBytes, multifdBytes });
    const name = `real-${c.qemu}-${c.compression}.mfd`;
    await fsp.writeFile(join(out, name), seed);
    console.log(`${name}: ${seed.length} bytes (from ${readFileSync(capture).length})`);
    // One seed keeps the whole main channel: the device sections and the vmdesc JSON at its end.
    if (c.qemu === '10.0' && c.compression === 'zlib') {
      const full = await trimCapture(readFileSync(capture), { packets: 3, mainBytes: Infinity, multifdBytes });
      await fsp.writeFile(join(out, 'real-10.0-zlib-fullmain.mfd'), full);
      console.log(`real-10.0-zlib-fullmain.mfd: ${full.length} bytes`);
    }
    await removeWorkDir(r);
    await fsp.rm(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
