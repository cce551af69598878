import type { CaptureStats, StatsAxis, StreamStats } from '../extension/shared/captureStats';

/**
 * The Timeline view's data, from `mfd stats --json` as it is (pure, unit-tested without a DOM): the lanes'
 * uPlot series, their markers, the epoch and phase bands, the epoch table's cells and the derived figures.
 * x is shown in ms on the time axis and in bytes on the byte axis; the figures stay exact, only the lanes'
 * series are the stats' downsampled points.
 */

export type MarkerKind = 'SYNC' | 'MULTIFD_FLUSH' | 'EOS' | 'return path' | 'page request' | 'device state';

export interface LaneMarker {
  kind: MarkerKind;
  /** x in display units. */
  at: number;
  label: string;
}

export interface TimelineLane {
  stream: number;
  title: string;
  /** uPlot's aligned data: [x, y]; y is bytes/s on the time axis, bytes per point on the byte axis. */
  data: [number[], number[]];
  markers: LaneMarker[];
  average: number | null;
  peak: number | null;
}

export interface Band {
  label: string;
  /** x in display units. */
  start: number;
  end: number;
  epoch?: number;
}

export interface EpochRow {
  epoch: number;
  /** Cells of the epoch table, in column order (EPOCH_COLUMNS). */
  cells: string[];
}

export const EPOCH_COLUMNS = [
  'epoch',
  'packets',
  'pages as data',
  'pages as zero',
  'main data / zero',
  're-sent',
  'balance',
  'compression',
  'per channel (packets, data + zero pages)',
] as const;

/** The axis as the view shows it: a name, a unit, and the conversion of stats x values. */
export interface DisplayAxis {
  label: string;
  unit: 'ms' | 'B';
  toDisplay: (x: number) => number;
  /** A span (a duration, a byte count) as text. */
  spanText: (v: number) => string;
  /** A lane's y value (throughput, or bytes per drawing point) as text. */
  valueText: (v: number | null) => string;
}

const integer = (n: number) => n.toLocaleString('en-US');

export function bytesText(n: number): string {
  if (n >= 2 ** 30) return `${(n / 2 ** 30).toFixed(2)} GiB`;
  if (n >= 2 ** 20) return `${(n / 2 ** 20).toFixed(2)} MiB`;
  if (n >= 2 ** 10) return `${(n / 2 ** 10).toFixed(1)} KiB`;
  return `${Math.round(n)} B`;
}

export function displayAxis(axis: StatsAxis): DisplayAxis {
  if (axis.kind === 'time')
    return {
      label: 'capture time (ms since the capture started)',
      unit: 'ms',
      toDisplay: (x) => x / 1e6,
      spanText: (v) => `${(v / 1e6).toFixed(3)} ms`,
      valueText: (v) => (v === null ? '-' : `${bytesText(v)}/s`),
    };
  return {
    label: `byte position in the stream (${axis.reason})`,
    unit: 'B',
    toDisplay: (x) => x,
    spanText: bytesText,
    valueText: (v) => (v === null ? '-' : bytesText(v)),
  };
}

export function streamTitle(s: StreamStats): string {
  if (s.kind === 'multifd') return `multifd channel ${s.channel ?? '?'} (stream ${s.id})`;
  return `${s.kind === 'main' ? 'main channel' : `${s.kind} channel`} (stream ${s.id})`;
}

/** One lane per stream of the series, with its SYNC / MULTIFD_FLUSH / EOS markers (and the main channel's return path and page requests). */
export function timelineLanes(stats: CaptureStats): TimelineLane[] {
  const ax = displayAxis(stats.axis);
  const series = stats.series;
  const timed = stats.axis.kind === 'time';
  // Bytes per point over the point's width in seconds: bytes/s (the byte axis has no time: bytes per point).
  const perPoint = timed ? 1e9 / series.pointWidth : 1;
  const xs = Array.from({ length: series.points }, (_, i) => ax.toDisplay(series.start + i * series.pointWidth));
  return series.lanes.map((lane) => {
    const s = stats.streams.find((x) => x.id === lane.stream);
    const markers: LaneMarker[] = [];
    const add = (kind: MarkerKind, at: number[], label: (i: number) => string) =>
      at.forEach((x, i) => markers.push({ kind, at: ax.toDisplay(x), label: label(i) }));
    if (s) {
      add('SYNC', s.syncs, (i) => `SYNC ${i + 1}`);
      add('MULTIFD_FLUSH', s.flushes, (i) => `MULTIFD_FLUSH ${i + 1}`);
      add('EOS', s.eos, (i) => `EOS ${i + 1}`);
    }
    if (s?.kind === 'main') {
      for (const m of stats.returnPath) markers.push({ kind: 'return path', at: ax.toDisplay(m.at), label: m.name });
      for (const r of stats.pageRequests)
        if (r.at !== undefined)
          markers.push({
            kind: 'page request',
            at: ax.toDisplay(r.at),
            label: `page request ${r.ramblock} +${r.start}, ${r.pages} pages, ${r.answered} answered`,
          });
    }
    markers.sort((a, b) => a.at - b.at);
    return {
      stream: lane.stream,
      title: s ? streamTitle(s) : `stream ${lane.stream}`,
      data: [xs, lane.bytes.map((b) => b * perPoint)],
      markers,
      average: s?.throughput?.averageBytesPerSecond ?? null,
      peak: s?.throughput?.peakBytesPerSecond ?? null,
    };
  });
}

/** Epochs with a first and last packet, for shading the lanes. */
export function epochBands(stats: CaptureStats): Band[] {
  const ax = displayAxis(stats.axis);
  return stats.epochs
    .filter((e) => e.start !== undefined && e.end !== undefined)
    .map((e) => ({
      label: `epoch ${e.epoch}`,
      start: ax.toDisplay(e.start!),
      end: ax.toDisplay(e.end!),
      epoch: e.epoch,
    }));
}

/** The main channel's phases: setup, each iteration, the switchover (with where the device state starts), postcopy, the end. */
export function phaseBands(stats: CaptureStats): Band[] {
  const ax = displayAxis(stats.axis);
  return stats.phases.map((p) => ({
    label: p.index !== undefined ? `${p.name} ${p.index}` : p.name,
    start: ax.toDisplay(p.start),
    end: ax.toDisplay(p.end),
    epoch: p.epoch,
  }));
}

/** Where each switchover's device state starts (display units). */
export function deviceStateMarks(stats: CaptureStats): LaneMarker[] {
  const ax = displayAxis(stats.axis);
  return stats.phases
    .filter((p) => p.deviceState)
    .map((p) => ({
      kind: 'device state' as const,
      at: ax.toDisplay(p.deviceState!.start),
      label: `device state (${p.deviceState!.sections} FULL sections)`,
    }));
}

export function ratioText(v: number | null): string {
  return v === null ? '-' : `${v.toFixed(2)}×`;
}

export function epochRows(stats: CaptureStats): EpochRow[] {
  return stats.epochs.map((e) => ({
    epoch: e.epoch,
    cells: [
      String(e.epoch),
      integer(e.packets),
      integer(e.dataPages),
      integer(e.zeroPages),
      `${integer(e.mainDataPages)} / ${integer(e.mainZeroPages)}`,
      integer(e.resentPages),
      e.balance === null ? '-' : e.balance.toFixed(2),
      ratioText(e.compression.ratio),
      e.channels
        .map((c) => `ch ${c.channel ?? '?'}: ${integer(c.packets)}, ${integer(c.dataPages)} + ${integer(c.zeroPages)}`)
        .join('; '),
    ],
  }));
}

/** The figures above the lanes: total time, the downtime as the capture shows it, each stream's throughput. */
export function derivedFigures(stats: CaptureStats): { key: string; label: string; value: string }[] {
  const ax = displayAxis(stats.axis);
  const d = stats.derived;
  const out = [
    { key: 'total', label: stats.axis.kind === 'time' ? 'total time' : 'total bytes', value: ax.spanText(d.total) },
    { key: 'iterations', label: 'iterations', value: String(d.iterations) },
  ];
  if (d.downtime)
    out.push({
      key: 'downtime',
      label: 'downtime',
      value: `${ax.spanText(d.downtime.duration)} (last iteration ${ax.spanText(d.downtime.lastIteration)} + device state ${ax.spanText(d.downtime.deviceState)})`,
    });
  for (const s of stats.streams)
    if (s.throughput)
      out.push({
        key: `throughput-${s.id}`,
        label: streamTitle(s),
        value: `average ${ax.valueText(s.throughput.averageBytesPerSecond)}, peak ${ax.valueText(s.throughput.peakBytesPerSecond)}`,
      });
  return out;
}

/**
 * The packet-list filter for an epoch: its multifd packets and the main channel's RAM records (the top-level
 * records and return-path messages of the main channel are not counted in epochs).
 */
export function epochFilter(epoch: number): string {
  return `epoch == ${epoch} && kind != "main" && kind != "return-path"`;
}
