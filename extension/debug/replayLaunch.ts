import { promises as fsp, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { analyzeCaptureFile } from '../core/analysis';
import { DiagnosticSink } from '../core/diagnostics/diagnostic';
import { ReplayEngine } from '../core/replay/replayEngine';
import { ReplayCursor } from './replayCursor';
import { ReplayFacts } from './replayFacts';
import { ReplayRuntime } from './replayRuntime';
import type { ReplayEvents } from './replayStop';
import { plural } from '../shared/plural';

/** What a replay is launched with (the `multifd-replay` launch configuration). */
export interface ReplayLaunchOptions {
  /** The .mfd capture (absolute, or relative to `cwd`). */
  capture: string;
  stopOnEntry?: boolean;
  /** Target page size override (as mfd --page-size). */
  pageSize?: number;
  /** ramblock name → reference RAM image, compared when the replay reaches the end. */
  reference?: Record<string, string>;
  /** Where the rebuilt ramblock images go; a temporary folder (removed at the end) when not given. */
  outDir?: string;
  cwd?: string;
  /** Bound of the undo log for stepping back, in MiB (default 128). */
  maxUndoMiB?: number;
  /** Decode zlib/zstd in worker threads (default: auto). */
  workers?: boolean;
}

/**
 * Analyses the capture, prepares the output folder, and opens the engine and the cursor over it: a runtime
 * standing at the start, nothing written. Reports the capture's summary (and its error and warning counts)
 * as output. Throws with a sentence for the user when the capture cannot be replayed.
 */
export async function openReplay(options: ReplayLaunchOptions, events: ReplayEvents): Promise<ReplayRuntime> {
  if (!options.capture) throw new Error('the launch configuration needs "capture": the .mfd file to replay');
  const cwd = options.cwd ?? process.cwd();
  const absolute = (p: string) => (isAbsolute(p) ? p : resolve(cwd, p));
  const capturePath = absolute(options.capture);
  const analysis = await analyzeCaptureFile(capturePath, { pageSize: options.pageSize });
  const sink = new DiagnosticSink();
  for (const d of analysis.diagnostics) sink.add(d);
  const facts = new ReplayFacts(analysis);
  let outDir: string;
  const ownOutDir = !options.outDir;
  if (options.outDir) {
    outDir = absolute(options.outDir);
    await fsp.mkdir(outDir, { recursive: true });
  } else outDir = mkdtempSync(join(tmpdir(), 'mfd-debug-'));
  const references = new Map(Object.entries(options.reference ?? {}).map(([block, file]) => [block, absolute(file)]));
  const engine = await ReplayEngine.create(analysis, sink, { outDir, force: true, workers: options.workers ?? 'auto' });
  const cursor = new ReplayCursor(engine, sink, { maxUndoBytes: (options.maxUndoMiB ?? 128) * 2 ** 20 });

  const a = analysis;
  const epochs = a.schedule.length ? a.schedule.epoch[a.schedule.length - 1] + 1 : 0;
  events.output(
    `capture ${options.capture}: page size ${a.pageSize} (${a.pageSizeSource}), ${plural(a.multifd.length, 'multifd channel')}, ${a.compression ?? 'no'} compression, ${plural(a.schedule.length, 'page write')} in ${plural(epochs, 'epoch')}\n`,
    'console',
  );
  const counts = { error: 0, warning: 0, info: 0 };
  for (const d of a.diagnostics) counts[d.severity]++;
  if (counts.error || counts.warning)
    events.output(`diagnostics: ${plural(counts.error, 'error')}, ${plural(counts.warning, 'warning')}\n`, 'console');
  return new ReplayRuntime({ facts, engine, cursor, capturePath, outDir, ownOutDir, references }, events);
}
