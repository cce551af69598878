import { analyzeCaptureFile } from '../../core/analysis';
import { buildCaptureStats } from '../../core/stats/captureStats';
import { StatsOptionError } from '../../core/stats/statsAxis';
import type { CaptureStats, StatsAxis } from '../../core/stats/statsTypes';
import { EXIT_FINDINGS, EXIT_OK, UsageError, type CliCommand } from '../cliCommand';
import { terminalLines } from '../terminalText';
import { parseCaptureArgs } from './inspect';

/** Markers listed per stream in text output; --json has them all. */
const TEXT_MARKERS = 12;

export const statsCommand: CliCommand = {
  name: 'stats',
  usage:
    'mfd stats <capture> [--json] [--bin 20ms|2s|65536] [--points N] [--page-size N] [--offset N] [--port P] [--migration N]',
  summary:
    'per stream, epoch and phase: bytes, packets, throughput, SYNC and MULTIFD_FLUSH times, pages sent, re-sent and zero, downtime',
  async run(argv, io) {
    const { values, positionals } = parseCaptureArgs(argv, {
      json: { type: 'boolean' },
      bin: { type: 'string' },
      points: { type: 'string' },
    });
    const bin = values.bin === undefined ? undefined : parseBin(values.bin);
    const maxPoints = values.points === undefined ? undefined : parsePoints(values.points);
    const analysis = await analyzeCaptureFile(positionals[0], { pageSize: values.pageSize, open: values.open });
    try {
      const timed = ['mfd', 'pcap', 'pcapng'].includes(analysis.capture.format);
      if (bin && bin.axis !== (timed ? 'time' : 'bytes'))
        throw new UsageError(
          `--bin ${values.bin}: this capture's x axis is ${timed ? 'time (give 20ms or 2s)' : 'bytes (give a byte count)'}`,
        );
      let stats: CaptureStats;
      try {
        stats = await buildCaptureStats(analysis, { binWidth: bin?.width, maxPoints });
      } catch (e) {
        if (e instanceof StatsOptionError) throw new UsageError(e.message);
        throw e;
      }
      io.out(values.json ? JSON.stringify(stats) + '\n' : renderStats(stats));
      return analysis.diagnostics.some((d) => d.severity === 'error') ? EXIT_FINDINGS : EXIT_OK;
    } finally {
      await analysis.capture.source.close();
    }
  },
};

function parseBin(text: string): { axis: 'time' | 'bytes'; width: number } {
  const m = /^(\d+(?:\.\d+)?)(ms|s)?$/.exec(text);
  if (!m || !(Number(m[1]) > 0)) throw new UsageError(`--bin ${text}: give a duration (20ms, 2s) or a byte count`);
  const n = Number(m[1]);
  if (m[2] === 'ms') return { axis: 'time', width: Math.round(n * 1e6) };
  if (m[2] === 's') return { axis: 'time', width: Math.round(n * 1e9) };
  if (!Number.isSafeInteger(n)) throw new UsageError(`--bin ${text}: a byte count is a whole number`);
  return { axis: 'bytes', width: n };
}

function parsePoints(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1) throw new UsageError(`--points ${text}: a whole number, 1 or more`);
  return n;
}

function size(n: number): string {
  if (n >= 1 << 30) return `${(n / (1 << 30)).toFixed(2)} GiB`;
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(2)} MiB`;
  if (n >= 1 << 10) return `${(n / (1 << 10)).toFixed(1)} KiB`;
  return `${n} B`;
}

/** An x value (or a span of them) in the axis's unit. */
function xText(axis: StatsAxis, v: number | undefined): string {
  if (v === undefined) return '-';
  return axis.kind === 'time' ? `${(v / 1e6).toFixed(3)} ms` : `@${v}`;
}

function spanText(axis: StatsAxis, v: number | undefined): string {
  if (v === undefined) return '-';
  return axis.kind === 'time' ? `${(v / 1e6).toFixed(3)} ms` : size(v);
}

function rate(v: number | null | undefined): string {
  return v === null || v === undefined ? '-' : `${size(v)}/s`;
}

function ratio(v: number | null): string {
  return v === null ? '-' : `${v.toFixed(2)}×`;
}

function markerText(axis: StatsAxis, name: string, xs: number[]): string {
  const shown = xs.slice(0, TEXT_MARKERS).map((v) => xText(axis, v).replace(' ms', ''));
  const unit = axis.kind === 'time' ? ' ms' : '';
  return `${xs.length} ${name}${xs.length ? ` at ${shown.join(', ')}${unit}` : ''}${xs.length > TEXT_MARKERS ? ` … (${xs.length - TEXT_MARKERS} more)` : ''}`;
}

export function renderStats(s: CaptureStats): string {
  const a = s.axis;
  const lines: string[] = [];
  lines.push(`${s.file}: page size ${s.pageSize}`);
  lines.push(`x axis: ${a.kind} (${a.reason}); bins of ${spanText(a, a.binWidth)} (${a.bins} bins)`);
  const d = s.derived;
  const down = d.downtime
    ? `; downtime ${spanText(a, d.downtime.duration)} (last iteration ${spanText(a, d.downtime.lastIteration)} + device state ${spanText(a, d.downtime.deviceState)}, from ${xText(a, d.downtime.start)})`
    : '';
  lines.push(`total ${spanText(a, d.total)}; ${d.iterations} iteration(s)${down}`);
  lines.push('');
  lines.push(
    'stream  kind     channel  bytes        packets  data     zero     span          average       peak          compression',
  );
  for (const st of s.streams)
    lines.push(
      [
        String(st.id).padEnd(7),
        st.kind.padEnd(8),
        String(st.channel ?? '-').padEnd(8),
        size(st.bytes).padEnd(12),
        String(st.ramRecords ? '-' : st.packets).padEnd(8),
        String(st.dataPages).padEnd(8),
        String(st.zeroPages).padEnd(8),
        spanText(a, st.span).padEnd(13),
        rate(st.throughput?.averageBytesPerSecond).padEnd(13),
        rate(st.throughput?.peakBytesPerSecond).padEnd(13),
        st.compression ? ratio(st.compression.ratio) : '-',
      ].join(' '),
    );
  lines.push('');
  lines.push('markers:');
  for (const st of s.streams) {
    if (st.kind === 'multifd') lines.push(`  stream ${st.id}: ${markerText(a, 'SYNC', st.syncs)}`);
    if (st.kind === 'main') {
      lines.push(`  stream ${st.id}: ${markerText(a, 'MULTIFD_FLUSH', st.flushes)}`);
      lines.push(`  stream ${st.id}: ${markerText(a, 'EOS', st.eos)}`);
    }
  }
  if (s.returnPath.length) {
    const names = new Map<string, number>();
    for (const m of s.returnPath) names.set(m.name, (names.get(m.name) ?? 0) + 1);
    lines.push(`  return path: ${[...names].map(([n, c]) => `${c} ${n}`).join(', ')}`);
  }
  if (s.pageRequests.length)
    lines.push(
      `  page requests: ${s.pageRequests.length}, ${s.pageRequests.reduce((n, r) => n + r.answered, 0)} of ${s.pageRequests.reduce((n, r) => n + r.pages, 0)} page(s) answered after the request`,
    );
  if (s.phases.length) {
    lines.push('');
    lines.push('phases (main channel):');
    for (const p of s.phases) {
      const name = p.index !== undefined ? `${p.name} ${p.index}` : p.name;
      const extra = [
        p.epoch !== undefined ? `epoch ${p.epoch}` : '',
        p.deviceState
          ? `device state from ${xText(a, p.deviceState.start)} (${p.deviceState.sections} FULL sections)`
          : '',
      ]
        .filter(Boolean)
        .join('; ');
      lines.push(
        `  ${name.padEnd(13)} ${xText(a, p.start)} – ${xText(a, p.end)}  @${p.startOffset}-${p.endOffset}, ${p.records} record(s)${extra ? `; ${extra}` : ''}`,
      );
    }
  }
  if (s.epochs.length) {
    lines.push('');
    lines.push('epoch  packets  data     zero     (main data/zero)  re-sent  repeated  balance  compression  time');
    for (const e of s.epochs) {
      lines.push(
        [
          String(e.epoch).padEnd(6),
          String(e.packets).padEnd(8),
          String(e.dataPages).padEnd(8),
          String(e.zeroPages).padEnd(8),
          `${e.mainDataPages}/${e.mainZeroPages}`.padEnd(17),
          String(e.resentPages).padEnd(8),
          String(e.repeatedPages).padEnd(9),
          (e.balance === null ? '-' : e.balance.toFixed(2)).padEnd(8),
          ratio(e.compression.ratio).padEnd(12),
          `${xText(a, e.start)} – ${xText(a, e.end)}`,
        ].join(' '),
      );
      const shares = e.channels
        .map((c) => `ch ${c.channel ?? '?'} ${c.packets} pkt ${c.dataPages}+${c.zeroPages}z ${size(c.wireBytes)}`)
        .join(' | ');
      if (shares) lines.push(`       ${shares}`);
    }
  }
  for (const n of s.notes) lines.push(`note: ${n}`);
  return terminalLines(lines);
}
