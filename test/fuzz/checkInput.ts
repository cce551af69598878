import { promises as fsp } from 'node:fs';
import { join, relative, resolve, sep, isAbsolute } from 'node:path';
import { MemoryByteSource } from '../../extension/core/capture/fileAccessor';
import { CaptureFormatError, openCaptureFromSource } from '../../extension/core/capture/openCapture';
import { analyzeCapture } from '../../extension/core/analysis';
import { replayCapture } from '../../extension/core/replay/replay';
import { buildCaptureReport } from '../../extension/core/captureReport';
import { renderReport } from '../../extension/cli/commands/inspect';
import { pageSizeProblem } from '../../extension/core/pageSizeCheck';
import { escapeControls } from '../../extension/cli/terminalText';
import { buildSectionList } from '../../extension/core/mainchannel/sectionList';
import { buildStateJson } from '../../extension/core/vmstate/deviceStates';
import { buildCaptureStats } from '../../extension/core/stats/captureStats';
import { renderStats } from '../../extension/cli/commands/stats';
import { diffCaptures } from '../../extension/core/diff/captureDiff';

export type FindingKind = 'exception' | 'hang' | 'memory' | 'escape' | 'contract';

export interface CheckResult {
  /** 'refused': not a capture at all (CaptureFormatError, which the CLI reports with exit 2). */
  outcome: 'decoded' | 'refused';
  finding?: { kind: FindingKind; message: string };
  diagnostics: number;
}

export interface CheckOptions {
  /** Per-input time bound in ms (async hangs; a synchronous loop is caught by the fuzzer's watchdog). */
  timeoutMs: number;
  /** Folder that receives one fresh sub-folder per input, removed afterwards. */
  workDir: string;
  /** Growth of RSS during one input above which it counts as a finding. */
  maxRssGrowth: number;
}

class Timeout extends Error {}

let counter = 0;

/**
 * Runs one input the way a user would: inspect (analysis and the CLI's report, text and JSON), then replay
 * into a fresh folder. It must end in a result or in diagnostics; anything else is a finding. Replay must
 * write only inside its folder, and every name there must be a plain file name.
 */
export async function checkInput(bytes: Uint8Array, o: CheckOptions): Promise<CheckResult> {
  const outDir = join(o.workDir, `in-${process.pid}-${counter++}`, 'out');
  const rssBefore = process.memoryUsage.rss();
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Timeout()), o.timeoutMs);
  });
  let result: CheckResult;
  try {
    result = await Promise.race([run(bytes, outDir), bound]);
  } catch (e) {
    if (e instanceof Timeout)
      result = {
        outcome: 'decoded',
        diagnostics: 0,
        finding: { kind: 'hang', message: `no result within ${o.timeoutMs} ms` },
      };
    else result = { outcome: 'decoded', diagnostics: 0, finding: { kind: 'exception', message: describe(e) } };
  } finally {
    clearTimeout(timer);
  }
  const growth = process.memoryUsage.rss() - rssBefore;
  if (!result.finding && growth > o.maxRssGrowth)
    result.finding = {
      kind: 'memory',
      message: `RSS grew by ${(growth / 2 ** 20).toFixed(1)} MiB on one input (bound ${(o.maxRssGrowth / 2 ** 20).toFixed(0)} MiB)`,
    };
  if (!result.finding) {
    const escaped = await filesOutside(join(outDir, '..'), outDir);
    if (escaped) result.finding = { kind: 'escape', message: escaped };
  }
  await fsp.rm(join(outDir, '..'), { recursive: true, force: true });
  return result;
}

async function run(bytes: Uint8Array, outDir: string): Promise<CheckResult> {
  let capture;
  try {
    capture = await openCaptureFromSource(new MemoryByteSource(bytes));
  } catch (e) {
    if (e instanceof CaptureFormatError) return { outcome: 'refused', diagnostics: 0 };
    throw e;
  }
  const analysis = await analyzeCapture(capture);
  const problem = pageSizeProblem(analysis.pageSize);
  if (problem) throw new ContractError(`decoding with page size ${analysis.pageSize}: ${problem}`);
  const report = buildCaptureReport(analysis);
  JSON.stringify(report);
  const text = renderReport(report);
  // Terminal text shows what the capture holds, never obeys it: no raw control character but the line ends.
  const raw = text.split('\n').find((line) => escapeControls(line) !== line);
  if (raw !== undefined)
    throw new ContractError(`inspect's text output holds a raw control character: ${JSON.stringify(raw)}`);
  // The device-state readers of mfd sections / devices / extract, on the same input.
  JSON.stringify(await buildSectionList(analysis), (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v));
  JSON.stringify((await buildStateJson(analysis)).state);
  // mfd stats (text and JSON) and mfd diff of the input against itself (its replays are the one below).
  const stats = await buildCaptureStats(analysis);
  JSON.stringify(stats);
  const statsRaw = renderStats(stats)
    .split('\n')
    .find((line) => escapeControls(line) !== line);
  if (statsRaw !== undefined)
    throw new ContractError(`stats' text output holds a raw control character: ${JSON.stringify(statsRaw)}`);
  JSON.stringify(await diffCaptures(analysis, analysis, { noRam: true }), (_k, v: unknown) =>
    typeof v === 'bigint' ? String(v) : v,
  );
  const r = await replayCapture(analysis, { outDir, workers: false, force: false });
  for (const b of r.blocks) assertInside(outDir, b.file, `ramblock ${JSON.stringify(b.name)}`);
  for (const d of r.deviceState) assertInside(outDir, d.file, `device state ${JSON.stringify(d.idstr)}`);
  for (const d of r.diagnostics) {
    if (typeof d.message !== 'string' || !d.code)
      throw new ContractError(`diagnostic without code or message: ${JSON.stringify(d)}`);
  }
  // A decompressed input holds a temporary file open until its source is closed.
  await capture.source.close();
  return { outcome: 'decoded', diagnostics: r.diagnostics.length };
}

class ContractError extends Error {}

function assertInside(outDir: string, file: string, what: string): void {
  const rel = relative(resolve(outDir), resolve(file));
  if (!rel || rel.startsWith('..') || isAbsolute(rel))
    throw new ContractError(`${what} written to ${file}, outside ${outDir}`);
  for (const part of rel.split(sep))
    if (!/^[A-Za-z0-9._@+-]+$/.test(part) || part.startsWith('.'))
      throw new ContractError(`${what}: unsafe file name ${JSON.stringify(part)}`);
}

/** Anything in the input's folder other than `out/` was written outside the output folder. */
async function filesOutside(parent: string, outDir: string): Promise<string | undefined> {
  let names: string[];
  try {
    names = await fsp.readdir(parent);
  } catch {
    return undefined;
  }
  const stray = names.filter((n) => join(parent, n) !== outDir);
  return stray.length ? `files written beside the output folder: ${stray.join(', ')}` : undefined;
}

function describe(e: unknown): string {
  if (e instanceof ContractError) return `contract: ${e.message}`;
  if (e instanceof Error) return `${e.name}: ${e.message}\n${(e.stack ?? '').split('\n').slice(1, 6).join('\n')}`;
  return String(e);
}

export function findingKindOf(r: CheckResult): FindingKind | undefined {
  if (!r.finding) return undefined;
  return r.finding.message.startsWith('contract: ') ? 'contract' : r.finding.kind;
}
