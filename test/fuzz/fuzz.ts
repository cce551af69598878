// Mutation fuzzer over real captures: `npm run fuzz -- --runs N [--seed S] [--jobs J] [--coverage]`.
// Inputs run in child processes (a bundle of the worker, so the decoder runs as shipped, not through a
// transpiling loader); a watchdog kills a child whose input runs past --watchdog-ms, which catches a
// synchronous infinite loop that an in-process timer cannot. Prints executions, exec/s, findings by kind,
// peak RSS against its bound and, with --coverage, line coverage of extension/core.
import { fork, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import * as esbuild from 'esbuild';
import type { WorkerArgs, WorkerMessage } from './fuzzWorker';
import { saveFinding } from './findings';
import { FINDINGS_DIR, FUZZ_DIR, loadSeeds } from './seeds';
import { mutate } from './mutators';
import { inputSeed } from './rng';

const ROOT = resolve(FUZZ_DIR, '..', '..');

export interface FuzzFigures {
  executions: number;
  seconds: number;
  execPerSecond: number;
  refused: number;
  findings: Record<string, number>;
  findingFiles: string[];
  peakRssMiB: number;
  rssBoundMiB: number;
  coverage?: {
    lines: number;
    covered: number;
    total: number;
    decodePath: { lines: number; covered: number; total: number };
  };
}

export interface FuzzOptions {
  runs: number;
  seed: number;
  jobs: number;
  timeoutMs: number;
  watchdogMs: number;
  maxRssMiB: number;
  findingsDir: string;
  coverage: boolean;
  /** Stop starting inputs after this many seconds (the figures are then those actually run). */
  maxSeconds?: number;
  log?: (line: string) => void;
}

async function bundleWorker(dir: string): Promise<string> {
  const outfile = join(dir, 'fuzzWorker.js');
  await esbuild.build({
    entryPoints: [join(FUZZ_DIR, 'fuzzWorker.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'es2022',
    sourcemap: 'inline',
    outfile,
    logLevel: 'error',
  });
  return outfile;
}

function readHeartbeat(file: string): number {
  try {
    const t = readFileSync(file, 'utf8').trim();
    return t ? Number(t) : -1;
  } catch {
    return -1;
  }
}

export async function fuzz(o: FuzzOptions): Promise<FuzzFigures> {
  const log = o.log ?? ((l: string) => console.log(l));
  const tmp = mkdtempSync(join(tmpdir(), 'mfd-fuzz-'));
  const covDir = join(tmp, 'coverage');
  // Coverage runs the worker through tsx: V8's block ranges then map onto the sources exactly, not through a bundle.
  const worker = o.coverage ? join(FUZZ_DIR, 'fuzzWorker.ts') : await bundleWorker(tmp);
  const deadline = o.maxSeconds ? Date.now() + o.maxSeconds * 1000 : undefined;
  // Replay writes small sparse images per input: tmpfs keeps that off the disk.
  const workRoot = existsSync('/dev/shm') ? mkdtempSync('/dev/shm/mfd-fuzz-') : join(tmp, 'work');
  const figures: FuzzFigures = {
    executions: 0,
    seconds: 0,
    execPerSecond: 0,
    refused: 0,
    findings: {},
    findingFiles: [],
    peakRssMiB: 0,
    rssBoundMiB: o.maxRssMiB,
  };
  const started = Date.now();
  const add = (kind: string, file: string) => {
    figures.findings[kind] = (figures.findings[kind] ?? 0) + 1;
    if (!figures.findingFiles.includes(file)) figures.findingFiles.push(file);
  };
  let seeds: Awaited<ReturnType<typeof loadSeeds>> | undefined;
  const regenerate = async (i: number) => {
    seeds ??= await loadSeeds();
    return mutate(seeds[i % seeds.length], inputSeed(o.seed, i));
  };
  let lastLog = Date.now();

  /** Runs [start, end) in one child, restarting it after a hang, a crash or a memory stop. */
  const runRange = async (job: number, start: number, end: number): Promise<void> => {
    let next = start;
    while (next < end) {
      const heartbeat = join(tmp, `heartbeat-${job}`);
      rmSync(heartbeat, { force: true });
      const args: WorkerArgs = {
        start: next,
        end,
        runSeed: o.seed,
        heartbeat,
        workDir: join(workRoot, `job${job}`),
        findingsDir: o.findingsDir,
        timeoutMs: o.timeoutMs,
        maxRssGrowth: (o.maxRssMiB / 2) * 2 ** 20,
        maxRss: o.maxRssMiB * 2 ** 20,
        deadline,
      };
      const env: NodeJS.ProcessEnv = { ...process.env, MFD_FUZZ_ARGS: JSON.stringify(args), MFD_FUZZ_DIR: FUZZ_DIR };
      if (o.coverage) env.NODE_V8_COVERAGE = covDir;
      const child = fork(worker, [], {
        env,
        execArgv: [`--max-old-space-size=${o.maxRssMiB}`, ...(o.coverage ? ['--import', 'tsx'] : [])],
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      let doneInChild = 0;
      let finished = false;
      let lastBeat = -1;
      let lastChange = Date.now();
      let memoryAt = -1;
      child.on('message', (m: WorkerMessage) => {
        if (m.type === 'finding') {
          add(m.kind, m.file);
          log(`finding (${m.kind}) at input ${m.iteration}: ${m.description}\n  ${m.message.split('\n')[0]}`);
        } else if (m.type === 'memory') {
          memoryAt = m.iteration;
        } else {
          figures.peakRssMiB = Math.max(figures.peakRssMiB, m.maxRss / 2 ** 20);
          figures.executions += m.done - doneInChild;
          figures.refused += m.type === 'done' ? m.refused : 0;
          doneInChild = m.done;
          if (m.type === 'done') finished = true;
          if (Date.now() - lastLog > 10_000) {
            lastLog = Date.now();
            const s = (Date.now() - started) / 1000;
            log(
              `… ${figures.executions} executions, ${(figures.executions / s).toFixed(0)}/s, findings ${JSON.stringify(figures.findings)}`,
            );
          }
        }
      });
      const watchdog = setInterval(() => {
        const beat = readHeartbeat(heartbeat);
        if (beat !== lastBeat) {
          lastBeat = beat;
          lastChange = Date.now();
        } else if (Date.now() - lastChange > o.watchdogMs) child.kill('SIGKILL');
      }, 250);
      const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
      clearInterval(watchdog);
      const beat = readHeartbeat(heartbeat);
      if (finished && memoryAt < 0) {
        next = end;
        continue;
      }
      // The child stopped inside an input: hang (watchdog), crash, or the RSS bound.
      const at = memoryAt >= 0 ? memoryAt : Math.max(beat, next);
      const kind = memoryAt >= 0 ? 'memory' : code === null ? 'hang' : 'crash';
      figures.executions += Math.max(0, at - next + 1 - doneInChild);
      const input = await regenerate(at);
      const file = saveFinding(
        o.findingsDir,
        kind,
        input.bytes,
        input.description,
        kind === 'hang'
          ? `no progress for ${o.watchdogMs} ms (killed by the watchdog)`
          : kind === 'memory'
            ? `RSS over ${o.maxRssMiB} MiB`
            : `worker exited with code ${code}`,
      );
      add(kind, file);
      log(`finding (${kind}) at input ${at}: ${input.description}`);
      next = at + 1;
    }
  };

  const per = Math.ceil(o.runs / o.jobs);
  await Promise.all(Array.from({ length: o.jobs }, (_, j) => runRange(j, j * per, Math.min(o.runs, (j + 1) * per))));
  figures.seconds = (Date.now() - started) / 1000;
  figures.execPerSecond = figures.executions / figures.seconds;
  if (o.coverage) figures.coverage = coverageSummary(covDir, tmp);
  rmSync(workRoot, { recursive: true, force: true });
  rmSync(tmp, { recursive: true, force: true });
  return figures;
}

/** Line coverage of extension/core (tests excluded; files never loaded count as uncovered). */
function coverageSummary(covDir: string, tmp: string): FuzzFigures['coverage'] {
  const reportDir = join(tmp, 'report');
  const c8 = join(ROOT, 'node_modules', 'c8', 'bin', 'c8.js');
  const r = spawnSync(
    process.execPath,
    [
      c8,
      'report',
      '--temp-directory',
      covDir,
      '--reports-dir',
      reportDir,
      '--reporter',
      'json-summary',
      '--reporter',
      'text',
      '--all',
      '--src',
      'extension/core',
      '--include',
      'extension/core/**',
      '--exclude',
      '**/*.test.ts',
    ],
    { cwd: ROOT, encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`c8 report failed: ${r.stderr}`);
  if (process.env.MFD_FUZZ_COVERAGE_TEXT) console.log(r.stdout);
  const summary = JSON.parse(readFileSync(join(reportDir, 'coverage-summary.json'), 'utf8')) as Record<
    string,
    { lines: { pct: number; covered: number; total: number } }
  >;
  const total = summary.total.lines;
  // The decode path: what a capture's bytes reach. Recording, sending and the editor's filter language are not.
  const offPath = /extension\/core\/(record|send|filter)\/|decodeWorker\.ts/;
  let covered = 0;
  let all = 0;
  for (const [file, v] of Object.entries(summary)) {
    if (file === 'total' || offPath.test(file)) continue;
    covered += v.lines.covered;
    all += v.lines.total;
  }
  return {
    lines: total.pct,
    covered: total.covered,
    total: total.total,
    decodePath: { lines: (100 * covered) / Math.max(1, all), covered, total: all },
  };
}

function printFigures(f: FuzzFigures): void {
  console.log('');
  console.log(`executions:      ${f.executions} in ${f.seconds.toFixed(1)} s (${f.execPerSecond.toFixed(1)} exec/s)`);
  console.log(`not a capture:   ${f.refused} (refused with a format error, as the CLI does)`);
  const kinds = Object.entries(f.findings);
  console.log(`findings:        ${kinds.length ? kinds.map(([k, n]) => `${k} ${n}`).join(', ') : 'none'}`);
  for (const file of f.findingFiles) console.log(`  saved ${file}`);
  console.log(`peak RSS:        ${f.peakRssMiB.toFixed(0)} MiB per worker (bound ${f.rssBoundMiB} MiB)`);
  if (f.coverage) {
    console.log(
      `line coverage:   ${f.coverage.lines.toFixed(2)}% of extension/core (${f.coverage.covered}/${f.coverage.total} lines)`,
    );
    const d = f.coverage.decodePath;
    console.log(
      `                 ${d.lines.toFixed(2)}% of its decode path (${d.covered}/${d.total} lines; record/, send/, filter/ excluded)`,
    );
  }
}

if (require.main === module) {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string' },
      seed: { type: 'string' },
      jobs: { type: 'string' },
      'timeout-ms': { type: 'string' },
      'watchdog-ms': { type: 'string' },
      'max-rss-mib': { type: 'string' },
      'max-seconds': { type: 'string' },
      findings: { type: 'string' },
      coverage: { type: 'boolean' },
      json: { type: 'boolean' },
    },
  });
  fuzz({
    runs: Number(values.runs ?? 2000),
    seed: Number(values.seed ?? 1),
    jobs: Number(values.jobs ?? 1),
    timeoutMs: Number(values['timeout-ms'] ?? 10_000),
    watchdogMs: Number(values['watchdog-ms'] ?? 30_000),
    maxRssMiB: Number(values['max-rss-mib'] ?? 512),
    findingsDir: resolve(values.findings ?? FINDINGS_DIR),
    coverage: values.coverage ?? false,
    maxSeconds: values['max-seconds'] ? Number(values['max-seconds']) : undefined,
  }).then(
    (f) => {
      printFigures(f);
      if (values.json) console.log(JSON.stringify(f));
      process.exit(Object.keys(f.findings).length ? 1 : 0);
    },
    (e) => {
      console.error(e);
      process.exit(2);
    },
  );
}
