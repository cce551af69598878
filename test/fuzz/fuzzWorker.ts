// The fuzzer's child process: runs inputs [start, end) of a run and reports to the parent over IPC.
// A heartbeat file holds the iteration in flight, so the parent can name the input of a synchronous hang.
import { openSync, writeSync, mkdirSync } from 'node:fs';
import { saveFinding } from './findings';
import { loadSeeds } from './seeds';
import { mutate } from './mutators';
import { inputSeed } from './rng';
import { checkInput, findingKindOf } from './checkInput';

export interface WorkerArgs {
  start: number;
  end: number;
  runSeed: number;
  heartbeat: string;
  workDir: string;
  findingsDir: string;
  timeoutMs: number;
  maxRssGrowth: number;
  /** RSS above which the worker stops (the parent counts a memory finding and restarts it). */
  maxRss: number;
  /** Epoch ms after which no new input is started. */
  deadline?: number;
}

export type WorkerMessage =
  | { type: 'progress'; done: number; refused: number; diagnostics: number; maxRss: number }
  | { type: 'finding'; iteration: number; kind: string; message: string; description: string; file: string }
  | { type: 'done'; done: number; refused: number; diagnostics: number; maxRss: number }
  | { type: 'memory'; iteration: number; rss: number };

async function main(): Promise<void> {
  const a = JSON.parse(process.env.MFD_FUZZ_ARGS ?? '{}') as WorkerArgs;
  const send = (m: WorkerMessage) => process.send?.(m);
  const seeds = await loadSeeds();
  mkdirSync(a.workDir, { recursive: true });
  const hb = openSync(a.heartbeat, 'w');
  const beat = Buffer.alloc(16);
  let done = 0;
  let refused = 0;
  let diagnostics = 0;
  const maxRss = () => process.resourceUsage().maxRSS * 1024;
  // Test hook: spin synchronously at one iteration, as a decoder stuck in a loop would, to prove the watchdog.
  const hangAt = Number(process.env.MFD_FUZZ_TEST_HANG_AT ?? -1);
  for (let i = a.start; i < a.end; i++) {
    if (a.deadline && Date.now() > a.deadline) break;
    beat.fill(0x20).write(String(i));
    writeSync(hb, beat, 0, 16, 0);
    if (i === hangAt) for (;;);
    const seed = seeds[i % seeds.length];
    const input = mutate(seed, inputSeed(a.runSeed, i));
    const r = await checkInput(input.bytes, {
      timeoutMs: a.timeoutMs,
      workDir: a.workDir,
      maxRssGrowth: a.maxRssGrowth,
    });
    done++;
    if (r.outcome === 'refused') refused++;
    diagnostics += r.diagnostics;
    const kind = findingKindOf(r);
    if (kind) {
      const file = saveFinding(a.findingsDir, kind, input.bytes, input.description, r.finding!.message);
      send({ type: 'finding', iteration: i, kind, message: r.finding!.message, description: input.description, file });
    }
    if (done % 200 === 0) send({ type: 'progress', done, refused, diagnostics, maxRss: maxRss() });
    const rss = process.memoryUsage.rss();
    if (rss > a.maxRss) {
      send({ type: 'memory', iteration: i, rss });
      break;
    }
  }
  send({ type: 'done', done, refused, diagnostics, maxRss: maxRss() });
  process.disconnect?.();
}

main().catch((e) => {
  console.error(e);
  process.exit(3);
});
