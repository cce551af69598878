import type { CaptureAnalysis, StreamAnalysis } from './analysisTypes';
import { buildInputReport, type InputReport } from './inputReport';
import { FORMAT_DESCRIPTIONS } from './capture/capture';
import { countBySeverity, type Diagnostic } from './diagnostics/diagnostic';
import { MainRecordKind } from './mainchannel/mainChannelIndex';
import type { PageRequestsReport } from './postcopy/pageRequests';

/** The JSON shape of `mfd inspect --json`, also used by the extension's summary bar and tests. */
export interface StreamReport {
  id: number;
  kind: StreamAnalysis['kind'];
  label?: string;
  channel: number | null;
  uuid: string | null;
  bytes: number;
  returnPathBytes: number;
  decodedBytes: number;
  complete: boolean;
  packets: number;
  syncPackets: number;
  normalPages: number;
  zeroPages: number;
  deviceStatePackets: number;
  compression: string | null;
  ramblocks: string[];
  closeReason?: string;
  /** Holes in a multifd stream (a pcap's dropped segments) and where decoding resumed after each (absent: never). */
  holes?: { streamOffset: number; length: number; resumedAt?: number }[];
  main?: {
    fileVersion: number;
    machineType?: string;
    capabilities: string[];
    records: number;
    pageRecords: number;
    zeroRecords: number;
    eos: number;
    multifdFlush: number;
    syncMode: string;
    syncMarkers: number;
    complete: boolean;
    stoppedAt?: { streamOffset: number; reason: string };
  };
  /** The postcopy preempt channel's RAM records (kind 'preempt'). */
  preempt?: {
    records: number;
    pageRecords: number;
    zeroRecords: number;
    eos: boolean;
    complete: boolean;
    stoppedAt?: { streamOffset: number; reason: string };
  };
}

export interface CaptureReport {
  file: string;
  format: string;
  formatDescription: string;
  /** The kind of file (a file: stream, compressed, mapped-ram, libvirt…), how it was read, what was not. */
  input: InputReport;
  pageSize: number;
  pageSizeSource: string;
  qemuVersionHint: string | null;
  qemuVersionReasons: string[];
  compression: string | null;
  channels: number;
  meta: Record<string, unknown>;
  notes: { timestampNs: number; text: string }[];
  streams: StreamReport[];
  ramblocks: { name: string; usedLength: number }[];
  totals: {
    packets: number;
    syncPackets: number;
    normalPages: number;
    zeroPages: number;
    mainZeroRecords: number;
    mainPageRecords: number;
  };
  diagnosticCounts: Record<string, number>;
  diagnostics: Diagnostic[];
  /** Postcopy page requests (REQ_PAGES on the return path), each page's arrival and latency; absent: none. */
  pageRequests?: PageRequestsReport;
}

/** What the report adds beyond the analysis, read asynchronously by the caller (readPageRequests). */
export interface CaptureReportExtras {
  pageRequests?: PageRequestsReport;
}

export function buildCaptureReport(a: CaptureAnalysis, extras: CaptureReportExtras = {}): CaptureReport {
  const streams = a.streams.map((s): StreamReport => {
    const m = s.multifd;
    const r: StreamReport = {
      id: s.id,
      kind: s.kind,
      label: s.stream.open?.label,
      channel: m?.handshake?.channelId ?? null,
      uuid: m?.handshake?.uuid ?? null,
      bytes: s.stream.toDestination.length,
      returnPathBytes: s.stream.toSource.length,
      decodedBytes: m?.decodedBytes ?? s.main?.bytes ?? 0,
      complete: m?.complete ?? s.main?.complete ?? false,
      packets: m?.packets.length ?? 0,
      syncPackets: m?.syncPackets ?? 0,
      normalPages: m?.normalPages ?? 0,
      zeroPages: m?.zeroPages ?? 0,
      deviceStatePackets: m?.deviceStatePackets ?? 0,
      compression: m?.method ?? null,
      ramblocks: m ? [...m.ramblocksSeen] : [],
      closeReason: s.stream.closeReason,
    };
    if (m?.holes.length)
      r.holes = m.holes.map((h) => ({ streamOffset: h.streamOffset, length: h.length, resumedAt: h.resumedAt }));
    if (s.main) {
      const mc = s.main;
      let pageRecords = 0;
      let zeroRecords = 0;
      for (let i = 0; i < mc.records.length; i++) {
        const k = mc.records.kind.get(i);
        if (k === MainRecordKind.Page) pageRecords++;
        else if (k === MainRecordKind.Zero) zeroRecords++;
      }
      r.normalPages = pageRecords;
      r.zeroPages = zeroRecords;
      r.ramblocks = mc.ramblocks.map((b) => b.name);
      r.decodedBytes = mc.stoppedAt?.streamOffset ?? mc.bytes;
      r.main = {
        fileVersion: mc.fileVersion,
        machineType: mc.configuration?.machineType,
        capabilities: mc.configuration?.capabilities ?? [],
        records: mc.records.length,
        pageRecords,
        zeroRecords,
        eos: mc.eosCount,
        multifdFlush: mc.flushCount,
        syncMode: mc.syncMode,
        syncMarkers: mc.syncMarkers,
        complete: mc.complete,
        stoppedAt: mc.stoppedAt,
      };
    }
    if (s.preempt) {
      const p = s.preempt;
      const blocks = new Set<string>();
      for (let i = 0; i < p.records.length; i++) {
        const name = a.ramblocks[p.records.block.get(i)]?.name;
        if (name !== undefined) blocks.add(name);
      }
      r.normalPages = p.pageRecords;
      r.zeroPages = p.zeroRecords;
      r.ramblocks = [...blocks];
      r.complete = p.complete;
      r.decodedBytes = p.stoppedAt?.streamOffset ?? p.bytes;
      r.preempt = {
        records: p.records.length,
        pageRecords: p.pageRecords,
        zeroRecords: p.zeroRecords,
        eos: p.eos,
        complete: p.complete,
        stoppedAt: p.stoppedAt,
      };
    }
    return r;
  });
  const multifdStreams = streams.filter((s) => s.kind === 'multifd');
  const sum = (f: (s: StreamReport) => number, list = multifdStreams) => list.reduce((n, s) => n + f(s), 0);
  const mainStream = streams.find((s) => s.kind === 'main');
  return {
    file: a.capture.path,
    format: a.capture.format,
    formatDescription: FORMAT_DESCRIPTIONS[a.capture.format],
    input: buildInputReport(a),
    pageSize: a.pageSize,
    pageSizeSource: a.pageSizeSource,
    qemuVersionHint: a.versionHint.text ?? null,
    qemuVersionReasons: a.versionHint.reasons,
    compression: a.compression ?? null,
    channels: multifdStreams.length,
    meta: a.capture.meta,
    notes: a.capture.notes.map((n) => ({ timestampNs: n.timestampNs, text: n.text })),
    streams,
    ramblocks: a.ramblocks.map((b) => ({ name: b.name, usedLength: b.usedLength })),
    totals: {
      packets: sum((s) => s.packets),
      syncPackets: sum((s) => s.syncPackets),
      normalPages: sum((s) => s.normalPages),
      zeroPages: sum((s) => s.zeroPages),
      mainZeroRecords: mainStream?.main?.zeroRecords ?? 0,
      mainPageRecords: mainStream?.main?.pageRecords ?? 0,
    },
    diagnosticCounts: countBySeverity(a.diagnostics),
    diagnostics: a.diagnostics,
    ...(extras.pageRequests ? { pageRequests: extras.pageRequests } : {}),
  };
}
