import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { removeWorkDir, runMigration, type Compression } from '../qemu/migration';
import { parseQemuVersion } from '../qemu/qemuBinaries';

/**
 * Migration time with and without the recorder in the path: same VM, same RAM content, runs alternated so
 * drift (page cache, CPU frequency) hits all modes alike. Three modes: direct (no proxy), proxy (the recorder
 * writing to /dev/null: the cost of the extra hop alone) and recorded (a real capture file).
 *   node --import tsx test/bench/recorderOverhead.ts [--ram 512] [--channels 4] [--compression none] [--runs 3] [--qemu 10.0]
 */

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

const ramMiB = Number(arg('ram', '512'));
const channels = Number(arg('channels', '4'));
const compression = arg('compression', 'none') as Compression;
const runs = Number(arg('runs', '3'));
const qemu = parseQemuVersion(arg('qemu', '10.0'));

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'mfd-bench-'));
  const modes = ['direct', 'proxy', 'recorded'] as const;
  type Mode = (typeof modes)[number];
  const times = Object.fromEntries(modes.map((m) => [m, { wall: [] as number[], qemu: [] as number[] }])) as Record<
    Mode,
    { wall: number[]; qemu: number[] }
  >;
  let bytes = 0;
  let captureBytes = 0;
  try {
    for (let i = 0; i < runs; i++) {
      for (const mode of modes) {
        const out = mode === 'recorded' ? join(dir, `run${i}.mfd`) : mode === 'proxy' ? '/dev/null' : undefined;
        const r = await runMigration({
          qemu,
          channels,
          compression,
          ramMiB,
          live: false,
          out,
          overwrite: mode === 'proxy',
          workDir: join(dir, `work-${mode}-${i}`),
        });
        if (r.status !== 'completed' || !r.comparison?.equal)
          throw new Error(`${mode} run ${i}: ${r.status} ${r.error ?? ''} ram equal: ${r.comparison?.equal}`);
        times[mode].wall.push(r.timings.migrateMs);
        times[mode].qemu.push(r.timings.qemuTotalTimeMs ?? NaN);
        bytes = r.sourceInfo.ram?.transferred ?? 0;
        if (mode === 'recorded' && r.recorder) captureBytes = r.recorder.fileBytes;
        process.stderr.write(
          `run ${i + 1}/${runs} ${mode.padEnd(8)} QEMU total-time ${r.timings.qemuTotalTimeMs} ms, wall ${r.timings.migrateMs} ms\n`,
        );
        await removeWorkDir(r);
        if (mode === 'recorded' && out) rmSync(out, { force: true });
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const line = (mode: Mode): string =>
    `${mode.padEnd(8)} QEMU total-time median ${median(times[mode].qemu)} ms [${times[mode].qemu.join(', ')}], wall median ${median(times[mode].wall)} ms [${times[mode].wall.join(', ')}]`;
  const mib = bytes / 2 ** 20;
  const ratio = (mode: Mode): string => (median(times[mode].qemu) / median(times.direct.qemu)).toFixed(3);
  const rate = (mode: Mode): string => `${(mib / (median(times[mode].qemu) / 1000)).toFixed(0)} MiB/s ${mode}`;
  process.stdout.write(
    [
      `QEMU ${qemu}, ${ramMiB} MiB RAM, ${channels} channels, ${compression}, ${runs} runs each; ${mib.toFixed(1)} MiB transferred per run, capture ${(captureBytes / 2 ** 20).toFixed(1)} MiB`,
      ...modes.map(line),
      `ratio to direct (QEMU total-time medians): proxy ${ratio('proxy')}, recorded ${ratio('recorded')}; throughput ${modes.map(rate).join(', ')}`,
    ].join('\n') + '\n',
  );
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack ?? e}\n`);
  process.exitCode = 1;
});
