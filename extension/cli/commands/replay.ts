import { existsSync, statSync } from 'node:fs';
import { analyzeCaptureFile } from '../../core/analysis';
import { countBySeverity, formatDiagnostic } from '../../core/diagnostics/diagnostic';
import { replayCapture, type ReplayResult } from '../../core/replay/replay';
import { ReplayRefused } from '../../core/replay/outputFolder';
import { EXIT_FINDINGS, EXIT_OK, UsageError, type CliCommand } from '../cliCommand';
import { terminalLines } from '../terminalText';
import { parseCaptureArgs } from './inspect';

export const replayCommand: CliCommand = {
  name: 'replay',
  usage:
    'mfd replay <capture> --out DIR [--reference BLOCK=FILE]... [--json] [--page-size N] [--force] [--zstd auto|node|js]',
  summary: 'rebuild each ramblock as the destination QEMU would hold it, and compare with reference images',
  async run(argv, io) {
    const { values, positionals } = parseCaptureArgs(argv, {
      out: { type: 'string' },
      reference: { type: 'string', multiple: true },
      json: { type: 'boolean' },
      force: { type: 'boolean' },
      zstd: { type: 'string' },
    });
    if (!values.out) throw new UsageError('--out DIR is required');
    if (existsSync(values.out) && !statSync(values.out).isDirectory())
      throw new UsageError(`--out ${values.out} exists and is not a folder`);
    const references = new Map<string, string>();
    for (const r of values.reference ?? []) {
      const eq = r.indexOf('=');
      if (eq <= 0) throw new UsageError(`--reference ${r}: BLOCK=FILE expected (e.g. pc.ram=dst.ram)`);
      const file = r.slice(eq + 1);
      if (!existsSync(file)) throw new UsageError(`--reference ${r}: ${file} does not exist`);
      references.set(r.slice(0, eq), file);
    }
    const zstd = values.zstd ?? 'auto';
    if (!['auto', 'node', 'js'].includes(zstd)) throw new UsageError(`--zstd ${zstd}: auto, node or js expected`);
    const analysis = await analyzeCaptureFile(positionals[0], { pageSize: values.pageSize, open: values.open });
    const started = Date.now();
    // Ctrl-C or SIGTERM stops the replay between two steps and marks its output incomplete; a second one quits now.
    const interrupt = new AbortController();
    const onSignal = (sig: NodeJS.Signals) => {
      if (interrupt.signal.aborted) process.exit(130);
      io.err(`\nmfd replay: ${sig}: stopping; the output will be marked incomplete\n`);
      interrupt.abort(sig);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    try {
      const result = await replayCapture(analysis, {
        outDir: values.out,
        references,
        force: values.force,
        signal: interrupt.signal,
        receiver: { zstdImplementation: zstd as 'auto' | 'node' | 'js' },
        onProgress:
          io.interactive && !values.json
            ? (done, total) =>
                io.err(
                  `\rreplaying: ${done}/${total} packets and records (${Math.floor((100 * done) / Math.max(1, total))}%)`,
                )
            : undefined,
      });
      if (io.interactive && !values.json) io.err('\n');
      const mismatches = (result.compare ?? []).reduce(
        (n, c) => n + c.mismatchedPages + (c.imageSize !== c.referenceSize ? 1 : 0),
        0,
      );
      io.out(
        values.json ? JSON.stringify(replayJson(result, (Date.now() - started) / 1000)) + '\n' : renderReplay(result),
      );
      return countBySeverity(result.diagnostics).error > 0 || mismatches > 0 || !result.complete
        ? EXIT_FINDINGS
        : EXIT_OK;
    } catch (e) {
      if (e instanceof ReplayRefused) throw new UsageError(e.message);
      if ((e as { code?: string }).code === 'EEXIST')
        throw new UsageError(
          `${(e as Error).message.replace(/^EEXIST: /, '')}: the output exists; pass --force to replace it`,
        );
      throw e;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      await analysis.capture.source.close();
    }
  },
};

/** What `mfd replay --json` prints. */
export type ReplayJson = ReturnType<typeof replayJson>;

function replayJson(r: ReplayResult, seconds: number) {
  return {
    outDir: r.outDir,
    pageSize: r.pageSize,
    seconds,
    steps: r.steps,
    complete: r.complete,
    ...(r.incomplete ? { incomplete: r.incomplete } : {}),
    blocks: r.blocks,
    deviceState: r.deviceState,
    ...(r.lost ? { lost: r.lost } : {}),
    ...(r.compare ? { compare: r.compare } : {}),
    diagnosticCounts: countBySeverity(r.diagnostics),
    diagnostics: r.diagnostics,
  };
}

function renderReplay(r: ReplayResult): string {
  const lines = [
    r.complete
      ? `replayed ${r.steps} packets and main-channel records into ${r.outDir} (page size ${r.pageSize})`
      : `INCOMPLETE: replay stopped after ${r.steps} packets and main-channel records into ${r.outDir} (page size ${r.pageSize}): ${r.incomplete?.reason}; marked in ${r.incomplete?.marker}`,
  ];
  for (const b of r.blocks)
    lines.push(
      `  ${b.name}: ${b.file} ${b.size} bytes (${b.sizeSource}); pages written ${b.pagesWritten}, last written as zero ${b.zeroPages}, never written ${b.neverWritten}`,
    );
  for (const d of r.deviceState)
    lines.push(
      `  device state ${JSON.stringify(d.idstr)} instance ${d.instanceId}: ${d.bytes} bytes in ${d.packets} packets -> ${d.file}`,
    );
  for (const c of r.compare ?? []) {
    lines.push(
      `compare ${c.block} with ${c.reference}: ${c.mismatchedPages === 0 && c.imageSize === c.referenceSize ? 'identical' : `${c.mismatchedPages} of ${c.pagesCompared} pages differ`}${c.imageSize !== c.referenceSize ? ` (sizes ${c.imageSize} vs ${c.referenceSize})` : ''}`,
    );
    for (const g of c.ranges.slice(0, 20))
      lines.push(`  0x${g.start.toString(16)}-0x${g.end.toString(16)} (${g.pages} pages): ${g.writers.join('; ')}`);
    if (c.ranges.length > 20) lines.push(`  … ${c.ranges.length - 20} more ranges (--json lists them all)`);
  }
  const c = countBySeverity(r.diagnostics);
  lines.push(`diagnostics: ${c.error} error(s), ${c.warning} warning(s), ${c.info} info`);
  for (const d of r.diagnostics) lines.push('  ' + formatDiagnostic(d));
  return terminalLines(lines);
}
