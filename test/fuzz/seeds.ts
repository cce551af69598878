import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { modelSeed, type SeedModel } from './seedModel';
import { trimCapture } from './trimCapture';

// The fuzzer's worker runs from a bundle elsewhere, so it is told where this folder is.
export const FUZZ_DIR = process.env.MFD_FUZZ_DIR ?? resolve(__dirname);
export const CORPUS_DIR = join(FUZZ_DIR, 'corpus');
export const SEEDS_DIR = join(CORPUS_DIR, 'seeds');
export const FINDINGS_DIR = join(CORPUS_DIR, 'findings');
const SAMPLES_DIR = resolve(FUZZ_DIR, '..', '..', 'samples');

/** The .mfd files under a folder, recursively, sorted so runs are reproducible (the mutators model .mfd containers). */
export function mfdFiles(dir: string): string[] {
  return inputFiles(dir).filter((f) => f.endsWith('.mfd'));
}

/** Every input under a folder, of any kind the reader takes by content (.mfd, pcap, …); the .txt beside each says what it is. */
export function inputFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...inputFiles(p));
    else if (!name.endsWith('.txt') && !name.endsWith('.md')) out.push(p);
  }
  return out;
}

/**
 * The fuzzing seeds: the recorded real-QEMU seeds, plus the first packets of each sample capture in
 * samples/ (trimmed so one execution stays cheap).
 */
export async function loadSeeds(): Promise<SeedModel[]> {
  const seeds: SeedModel[] = [];
  for (const f of mfdFiles(SEEDS_DIR)) seeds.push(await modelSeed(f.slice(SEEDS_DIR.length + 1), readFileSync(f)));
  for (const f of mfdFiles(SAMPLES_DIR)) {
    try {
      const small = await trimCapture(readFileSync(f), { packets: 6, mainBytes: 16 << 10, multifdBytes: 24 << 10 });
      seeds.push(await modelSeed(`samples/${f.slice(SAMPLES_DIR.length + 1)}`, small));
    } catch {
      // A sample the trimmer cannot cut down is no seed; the corpus test still reads it whole.
    }
  }
  if (!seeds.length) throw new Error(`no fuzzing seeds in ${SEEDS_DIR} (run test/fuzz/recordSeeds.ts)`);
  return seeds;
}
