import type { OpenOptions } from '../../core/capture/openCapture';
import { parseArgs } from 'node:util';
import { analyzeCaptureFile } from '../../core/analysis';
import { formatDiagnostic } from '../../core/diagnostics/diagnostic';
import { EXIT_FINDINGS, EXIT_OK, parseNumber, UsageError, type CliCommand } from '../cliCommand';
import { buildCaptureReport, type CaptureReport } from '../../core/captureReport';
import { pageSizeProblem } from '../../core/pageSizeCheck';
import { terminalLines } from '../terminalText';
import { inputLines } from '../../core/inputReport';
import { readPageRequests } from '../../core/postcopy/pageRequestsOfCapture';
import { pageRequestsLine } from '../../core/postcopy/pageRequestsText';

export const inspectCommand: CliCommand = {
  name: 'inspect',
  usage: 'mfd inspect <capture> [--json] [--page-size N] [--offset N]',
  summary: 'decode every stream of a capture and print what it holds, with diagnostics',
  async run(argv, io) {
    const { values, positionals } = parseCaptureArgs(argv, { json: { type: 'boolean' } });
    const analysis = await analyzeCaptureFile(positionals[0], { pageSize: values.pageSize, open: values.open });
    const report = buildCaptureReport(analysis, { pageRequests: await readPageRequests(analysis) });
    io.out(values.json ? JSON.stringify(report) + '\n' : renderReport(report));
    await analysis.capture.source.close();
    return report.diagnosticCounts.error > 0 ? EXIT_FINDINGS : EXIT_OK;
  },
};

/** Parses `<capture> [--page-size N] [--port P] [--migration N] [--offset N]` plus a command's own options. */
export function parseCaptureArgs<T extends Record<string, { type: 'boolean' | 'string'; multiple?: boolean }>>(
  argv: string[],
  own: T,
) {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        ...own,
        'page-size': { type: 'string' },
        port: { type: 'string' },
        migration: { type: 'string' },
        offset: { type: 'string' },
      },
    });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (parsed.positionals.length !== 1)
    throw new UsageError(parsed.positionals.length ? 'one capture file expected' : 'no capture file given');
  const ps = (parsed.values as Record<string, unknown>)['page-size'] as string | undefined;
  const pageSize = ps === undefined ? undefined : parseNumber(ps, '--page-size');
  const problem = pageSize === undefined ? undefined : pageSizeProblem(pageSize);
  if (problem) throw new UsageError(`--page-size ${pageSize}: ${problem}`);
  // A pcap may hold several migrations: --port picks the one to that destination port, --migration the N-th.
  const raw = parsed.values as Record<string, unknown>;
  const port = raw.port === undefined ? undefined : parseNumber(raw.port as string, '--port');
  const migration = raw.migration === undefined ? undefined : parseNumber(raw.migration as string, '--migration');
  if (port !== undefined && (port < 1 || port > 65535)) throw new UsageError(`--port ${port}: not a TCP port`);
  if (migration !== undefined && migration < 1)
    throw new UsageError(`--migration ${migration}: migrations count from 1`);
  // file:path,offset=N: the QEMU stream starts N bytes into the file.
  const offset = raw.offset === undefined ? undefined : parseNumber(raw.offset as string, '--offset');
  if (offset !== undefined && (!Number.isSafeInteger(offset) || offset < 0))
    throw new UsageError(`--offset ${offset}: a byte offset (0 or more) is expected`);
  const open: OpenOptions | undefined =
    port !== undefined || migration !== undefined || offset !== undefined
      ? {
          ...(port !== undefined || migration !== undefined ? { pcap: { port, migration } } : {}),
          ...(offset !== undefined ? { file: { offset } } : {}),
        }
      : undefined;
  return {
    values: { ...raw, pageSize, open } as {
      [K in keyof T]?: T[K]['type'] extends 'boolean' ? boolean : T[K]['multiple'] extends true ? string[] : string;
    } & { pageSize?: number; open?: OpenOptions },
    positionals: parsed.positionals,
  };
}

function size(n: number): string {
  if (n >= 1 << 30) return `${(n / (1 << 30)).toFixed(2)} GiB`;
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(2)} MiB`;
  if (n >= 1 << 10) return `${(n / (1 << 10)).toFixed(1)} KiB`;
  return `${n} B`;
}

export function renderReport(r: CaptureReport): string {
  const lines: string[] = [];
  lines.push(`${r.file}: ${r.formatDescription}`);
  lines.push(...inputLines(r.input));
  lines.push(
    `page size ${r.pageSize} (from ${r.pageSizeSource}); ${r.channels} multifd channel(s); compression ${r.compression ?? 'n/a'}; QEMU ${r.qemuVersionHint ?? 'version not inferred'}`,
  );
  if (r.meta.source || r.meta.destination)
    lines.push(`recorded: source ${String(r.meta.source ?? '?')}, destination ${String(r.meta.destination ?? '?')}`);
  lines.push('');
  lines.push('stream  kind     channel  bytes        packets  sync  normal    zero      compression  ramblocks');
  for (const s of r.streams) {
    lines.push(
      [
        String(s.id).padEnd(7),
        s.kind.padEnd(8),
        String(s.channel ?? '-').padEnd(8),
        size(s.bytes).padEnd(12),
        String(s.packets).padEnd(8),
        String(s.kind === 'main' ? (s.main?.syncMarkers ?? 0) : s.syncPackets).padEnd(5),
        String(s.normalPages).padEnd(9),
        String(s.zeroPages).padEnd(9),
        String(s.compression ?? '-').padEnd(12),
        s.ramblocks.join(',') || '-',
      ].join(' '),
    );
    if (s.main) {
      const m = s.main;
      lines.push(
        `        main channel: ${m.records} RAM records (${m.pageRecords} PAGE, ${m.zeroRecords} ZERO), ${m.eos} EOS, ${m.multifdFlush} MULTIFD_FLUSH; sync on ${m.syncMode}${m.machineType ? `; machine ${m.machineType}` : ''}${m.stoppedAt ? `; stopped at stream offset ${m.stoppedAt.streamOffset}: ${m.stoppedAt.reason}` : ''}`,
      );
    }
    if (s.preempt) {
      const p = s.preempt;
      lines.push(
        `        postcopy preempt channel: ${p.records} RAM records (${p.pageRecords} PAGE, ${p.zeroRecords} ZERO)${p.eos ? ', EOS' : ''}; ${p.complete ? 'decoded to its end' : `stopped at stream offset ${p.stoppedAt?.streamOffset}: ${p.stoppedAt?.reason}`}`,
      );
    }
    if (s.uuid)
      lines.push(`        uuid ${s.uuid}${s.complete ? '' : `; decoded ${s.decodedBytes} of ${s.bytes} bytes`}`);
  }
  if (r.ramblocks.length) {
    lines.push('');
    lines.push('ramblocks (MEM_SIZE): ' + r.ramblocks.map((b) => `${b.name} ${size(b.usedLength)}`).join(', '));
  }
  if (r.pageRequests) {
    lines.push('');
    lines.push(pageRequestsLine(r.pageRequests));
  }
  lines.push('');
  const c = r.diagnosticCounts;
  lines.push(`diagnostics: ${c.error} error(s), ${c.warning} warning(s), ${c.info} info`);
  for (const d of r.diagnostics) lines.push('  ' + formatDiagnostic(d));
  return terminalLines(lines);
}
