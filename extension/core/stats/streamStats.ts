import type { CaptureAnalysis, StreamAnalysis } from '../analysisTypes';
import type { StreamBytes } from '../capture/streamBytes';
import { MainRecordKind } from '../mainchannel/recordTable';
import { FLAG_SYNC } from '../multifd/constants';
import { binOf, type AxisChoice } from './statsAxis';
import type { CompressionFigures, StatsAxis, StreamStats } from './statsTypes';

/** One stream's figures, and its lane's bins (bytes and packets per bin) at full resolution. */
export interface StreamFigures {
  stats: StreamStats;
  bytesPerBin: Float64Array;
  packetsPerBin: Float64Array;
}

export function compressionFigures(rawBytes: number, payloadBytes: number): CompressionFigures {
  return { rawBytes, payloadBytes, ratio: payloadBytes > 0 ? rawBytes / payloadBytes : null };
}

export function streamFigures(analysis: CaptureAnalysis, s: StreamAnalysis, choice: AxisChoice): StreamFigures {
  const { axis } = choice;
  const bytes = s.stream.toDestination;
  const bytesPerBin = new Float64Array(axis.bins);
  const packetsPerBin = new Float64Array(axis.bins);
  let first: number | undefined;
  let last: number | undefined;
  bytes.forEachSegment((offset, length, ts) => {
    if (axis.kind === 'time') {
      bytesPerBin[binOf(axis, ts)] += length;
      first = Math.min(first ?? ts, ts);
      last = Math.max(last ?? ts, ts);
    } else spreadOverBins(axis, bytesPerBin, offset, length);
  });
  if (axis.kind === 'bytes' && bytes.length > 0) {
    first = 0;
    last = bytes.length;
  }
  const stats: StreamStats = {
    id: s.id,
    kind: s.kind,
    bytes: bytes.length,
    packets: 0,
    deviceStatePackets: 0,
    dataPages: 0,
    zeroPages: 0,
    ...(first !== undefined && last !== undefined ? { first, last, span: last - first } : {}),
    throughput: null,
    syncs: [],
    flushes: [],
    eos: [],
    returnPathBytes: s.stream.toSource.length,
  };
  if (s.multifd) multifdFigures(s, stats, packetsPerBin, choice, analysis.pageSize);
  if (s.main) mainFigures(s, stats, packetsPerBin, choice);
  if (axis.kind === 'time' && stats.span !== undefined) {
    let peakBin = 0;
    for (let i = 1; i < bytesPerBin.length; i++) if (bytesPerBin[i] > bytesPerBin[peakBin]) peakBin = i;
    stats.throughput = {
      averageBytesPerSecond: stats.span > 0 ? stats.bytes / (stats.span / 1e9) : null,
      peakBytesPerSecond: bytesPerBin[peakBin] / (axis.binWidth / 1e9),
      peakAt: axis.start + peakBin * axis.binWidth,
    };
  }
  return { stats, bytesPerBin, packetsPerBin };
}

/** On the byte axis a segment covers [offset, offset + length): its bytes go to every bin it overlaps. */
function spreadOverBins(axis: StatsAxis, bins: Float64Array, offset: number, length: number): void {
  let pos = offset;
  const end = offset + length;
  while (pos < end) {
    const b = binOf(axis, pos);
    const binEnd = axis.start + (b + 1) * axis.binWidth;
    const upto = b === axis.bins - 1 ? end : Math.min(end, binEnd);
    bins[b] += upto - pos;
    pos = upto;
  }
}

function multifdFigures(
  s: StreamAnalysis,
  stats: StreamStats,
  packetsPerBin: Float64Array,
  { axis, x }: AxisChoice,
  pageSize: number,
): void {
  const m = s.multifd!;
  const t = m.packets;
  const bytes: StreamBytes = s.stream.toDestination;
  stats.channel = m.handshake?.channelId;
  stats.packets = t.length;
  stats.deviceStatePackets = m.deviceStatePackets;
  let payload = 0;
  for (let i = 0; i < t.length; i++) {
    const at = x(bytes, t.headerOffset.get(i));
    packetsPerBin[binOf(axis, at)]++;
    if (t.isDeviceState(i)) continue;
    stats.dataPages += t.normalPages.get(i);
    stats.zeroPages += t.zeroPages.get(i);
    payload += t.payloadLength.get(i);
    if (t.flags.get(i) & FLAG_SYNC) stats.syncs.push(at);
  }
  stats.compression = compressionFigures(stats.dataPages * pageSize, payload);
}

function mainFigures(s: StreamAnalysis, stats: StreamStats, perBin: Float64Array, { axis, x }: AxisChoice): void {
  const r = s.main!.records;
  const bytes = s.stream.toDestination;
  const counts = { total: 0, page: 0, zero: 0 };
  for (let i = 0; i < r.length; i++) {
    const kind = r.kind.get(i) as MainRecordKind;
    const at = x(bytes, r.streamPos.get(i));
    counts.total++;
    perBin[binOf(axis, at)]++;
    if (kind === MainRecordKind.Zero) counts.zero++;
    else if (isDataRecord(kind)) counts.page++;
    else if (kind === MainRecordKind.Flush) stats.flushes.push(at);
    else if (kind === MainRecordKind.Eos) stats.eos.push(at);
  }
  stats.ramRecords = counts;
  stats.dataPages = counts.page;
  stats.zeroPages = counts.zero;
}

/** Records that carry a page's data on the main channel. */
export function isDataRecord(kind: MainRecordKind): boolean {
  return kind === MainRecordKind.Page || kind === MainRecordKind.Xbzrle || kind === MainRecordKind.CompressPage;
}
