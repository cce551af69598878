// Records the small real captures the debug-adapter tests replay (QEMU 10.0 and 7.2, in-process
// recorder). Run once; the .mfd files are kept under test/debug/fixtures/.
//   node --import tsx test/debug/makeFixtures.ts
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { removeWorkDir, runMigration } from '../qemu/migration';

const OUT = resolve(__dirname, 'fixtures');

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  const runs = [
    { name: 'qemu10-none-2ch', qemu: '10.0' as const, compression: 'none' as const, live: false },
    { name: 'qemu7.2-zlib-2ch-live', qemu: '7.2' as const, compression: 'zlib' as const, live: true },
  ];
  for (const r of runs) {
    const out = resolve(OUT, `${r.name}.mfd`);
    const m = await runMigration({
      qemu: r.qemu,
      iterations: 3,
      minLiveMs: 500,
      channels: 2,
      compression: r.compression,
      ramMiB: 4,
      live: r.live,
      out,
      overwrite: true,
      nonZeroFraction: 0.03,
      seed: 7,
      log: (l) => process.stderr.write(`${l}\n`),
    });
    process.stderr.write(`${r.name}: ${m.status}, ${JSON.stringify(m.comparison)}\n`);
    if (m.status !== 'completed') throw new Error(m.error ?? m.status);
    await removeWorkDir(m);
  }
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack}\n`);
  process.exitCode = 1;
});
