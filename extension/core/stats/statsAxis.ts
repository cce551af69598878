import type { CaptureAnalysis } from '../analysisTypes';
import type { StreamBytes } from '../capture/streamBytes';
import type { StatsAxis, StatsAxisKind } from './statsTypes';

/** Bins the numbers are measured over by default: about this many across the capture. */
const DEFAULT_BINS = 100;
/** A bin is never narrower than 1 ms (a socket read's timestamp is no finer than that in practice) or 4 KiB. */
const MIN_BIN = { time: 1e6, bytes: 4096 };
const MAX_BINS = 1_000_000;

export class StatsOptionError extends Error {}

/** The x of a stream offset: its DATA record's timestamp, or the offset itself on the byte axis. */
export type Position = (stream: StreamBytes, offset: number) => number;

export interface AxisChoice {
  axis: StatsAxis;
  x: Position;
}

/** Containers that stamp each read (.mfd, pcap) give a time axis; raw dumps and file: streams give bytes. */
export function chooseAxis(analysis: CaptureAnalysis, binWidth?: number): AxisChoice {
  const format = analysis.capture.format;
  const timed = format === 'mfd' || format === 'pcap' || format === 'pcapng';
  const kind: StatsAxisKind = timed ? 'time' : 'bytes';
  let start = Infinity;
  let end = -Infinity;
  for (const s of analysis.streams) {
    const bytes = s.stream.toDestination;
    if (kind === 'time')
      bytes.forEachSegment((_, __, ts) => {
        start = Math.min(start, ts);
        end = Math.max(end, ts);
      });
    else if (bytes.length > 0) {
      start = 0;
      end = Math.max(end, bytes.length);
    }
  }
  if (start > end) start = end = 0;
  // The time axis starts where the capture does (its clock's 0), so phases and epochs read as times into it.
  if (kind === 'time') start = Math.min(0, start);
  const span = end - start;
  const width = binWidth ?? Math.max(MIN_BIN[kind], niceCeil(span / DEFAULT_BINS));
  if (!(width > 0)) throw new StatsOptionError(`bin width ${width}: must be positive`);
  // x in [start, end], both ends included.
  const bins = Math.floor(span / width) + 1;
  if (bins > MAX_BINS)
    throw new StatsOptionError(
      `bin width ${width} ${kind === 'time' ? 'ns' : 'bytes'} makes ${bins} bins over the capture; at most ${MAX_BINS}`,
    );
  return {
    axis: {
      kind,
      unit: kind === 'time' ? 'ns' : 'byte',
      reason: timed
        ? `the ${format} capture stamps every read: x is ns since the capture started`
        : `a ${format} input has no timestamps: x is the byte position in the stream`,
      start,
      end,
      binWidth: width,
      bins,
    },
    x: kind === 'time' ? (stream, offset) => stream.timestampOf(offset) : (_, offset) => offset,
  };
}

export function binOf(axis: StatsAxis, x: number): number {
  return Math.min(axis.bins - 1, Math.max(0, Math.floor((x - axis.start) / axis.binWidth)));
}

/** 1, 2 or 5 times a power of ten, at least v. */
export function niceCeil(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

/** Sums adjacent bins so a lane has at most maxPoints points (drawing only). */
export function mergeBins(values: Float64Array, binsPerPoint: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < values.length; i += binsPerPoint) {
    let sum = 0;
    for (let j = i; j < Math.min(values.length, i + binsPerPoint); j++) sum += values[j];
    out.push(sum);
  }
  return out;
}
