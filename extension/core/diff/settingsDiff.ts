import type { CaptureAnalysis } from '../analysisTypes';
import { buildCaptureReport } from '../captureReport';
import { MainRecordKind } from '../mainchannel/recordTable';
import { FLAG_SYNC } from '../multifd/constants';
import type { CaptureSide, RamBlockDiff, StreamSummary, ValueDiff } from './diffTypes';

/** The capture-level facts of each side, and their differences, differences first. */

const QEMU_VERSION = /QEMU (\d+\.\d+(?:\.\d+)?)/;

function metaText(meta: Record<string, unknown>, key: string): string | undefined {
  const v = meta[key];
  return typeof v === 'string' ? v : undefined;
}

export function captureSide(analysis: CaptureAnalysis): CaptureSide {
  const meta = analysis.capture.meta;
  let multifdZero = 0;
  let syncWithPages = 0;
  for (const m of analysis.multifd) {
    multifdZero += m.zeroPages;
    const t = m.packets;
    for (let i = 0; i < t.length; i++)
      if (t.flags.get(i) & FLAG_SYNC && !t.isDeviceState(i) && t.normalPages.get(i) + t.zeroPages.get(i) > 0)
        syncWithPages++;
  }
  let mainZero = 0;
  const r = analysis.main?.records;
  if (r) for (let i = 0; i < r.length; i++) if (r.kind.get(i) === MainRecordKind.Zero) mainZero++;
  return {
    file: analysis.capture.path,
    format: analysis.capture.format,
    sourceQemu: QEMU_VERSION.exec(metaText(meta, 'source') ?? '')?.[1],
    destinationQemu: QEMU_VERSION.exec(metaText(meta, 'destination') ?? '')?.[1],
    versionHint: analysis.versionHint.text,
    machineType: analysis.main?.configuration?.machineType,
    pageSize: analysis.pageSize,
    compression: analysis.compression,
    zeroPages: multifdZero && mainZero ? 'both' : multifdZero ? 'multifd' : mainZero ? 'main channel' : 'none',
    syncMode: analysis.main?.syncMode,
    syncPacketsWithPages: syncWithPages,
  };
}

/** Same key set on both sides, compared by JSON value; differences first, then by name. */
export function diffValues(a: Record<string, unknown>, b: Record<string, unknown>): ValueDiff[] {
  const names = [...new Set([...Object.keys(a), ...Object.keys(b)])];
  const out = names.map((name) => {
    const d: ValueDiff = { name, differs: JSON.stringify(a[name]) !== JSON.stringify(b[name]) };
    if (name in a) d.a = a[name];
    if (name in b) d.b = b[name];
    return d;
  });
  return differencesFirst(out);
}

export function differencesFirst<T extends { differs: boolean; name: string }>(xs: T[]): T[] {
  return xs.sort((x, y) => Number(y.differs) - Number(x.differs) || x.name.localeCompare(y.name));
}

export function summaryDiff(a: CaptureSide, b: CaptureSide): ValueDiff[] {
  const pick = (s: CaptureSide) => ({
    'source QEMU': s.sourceQemu,
    'destination QEMU': s.destinationQemu,
    'sender version (from the bytes)': s.versionHint,
    'machine type': s.machineType,
    'page size': s.pageSize,
    compression: s.compression,
    'zero pages travel': s.zeroPages,
    'epochs end at': s.syncMode === 'flush' ? 'MULTIFD_FLUSH' : s.syncMode === 'eos' ? 'EOS' : undefined,
    'SYNC packets with pages': s.syncPacketsWithPages,
  });
  return diffValues(pick(a), pick(b));
}

/** META's parameters (as the driver set them) and capabilities, plus the configuration section's capabilities. */
export function settingsOf(analysis: CaptureAnalysis): {
  capabilities: Record<string, unknown>;
  parameters: Record<string, unknown>;
} {
  const raw = analysis.capture.meta.parameters;
  const params = raw && typeof raw === 'object' ? { ...(raw as Record<string, unknown>) } : {};
  const caps = params.capabilities && typeof params.capabilities === 'object' ? params.capabilities : {};
  delete params.capabilities;
  const capabilities: Record<string, unknown> = { ...(caps as Record<string, unknown>) };
  // The configuration section names capabilities the destination must have on too (9.0+: x-ignore-shared, mapped-ram…).
  for (const c of analysis.main?.configuration?.capabilities ?? []) capabilities[`${c} (configuration section)`] = true;
  return { capabilities, parameters: params };
}

export function streamSummaries(analysis: CaptureAnalysis): StreamSummary[] {
  return buildCaptureReport(analysis).streams.map((s) => ({
    id: s.id,
    kind: s.kind,
    channel: s.channel,
    bytes: s.bytes,
    packets: s.packets,
    syncPackets: s.syncPackets,
    normalPages: s.normalPages,
    zeroPages: s.zeroPages,
  }));
}

export function streamCounts(a: CaptureAnalysis, b: CaptureAnalysis): ValueDiff[] {
  const count = (x: CaptureAnalysis) => {
    const r = buildCaptureReport(x);
    const main = r.streams.find((s) => s.main)?.main;
    return {
      streams: r.streams.length,
      'multifd channels': x.multifd.length,
      'multifd packets': x.multifd.reduce((n, m) => n + m.packets.length, 0),
      'SYNC packets': x.multifd.reduce((n, m) => n + m.syncPackets, 0),
      'multifd normal pages': x.multifd.reduce((n, m) => n + m.normalPages, 0),
      'multifd zero pages': x.multifd.reduce((n, m) => n + m.zeroPages, 0),
      'main-channel PAGE records': main?.pageRecords ?? 0,
      'main-channel ZERO records': main?.zeroRecords ?? 0,
      MULTIFD_FLUSH: main?.multifdFlush ?? 0,
      EOS: main?.eos ?? 0,
      'device-state packets': x.multifd.reduce((n, m) => n + m.deviceStatePackets, 0),
    };
  };
  return diffValues(count(a), count(b));
}

export function ramblockDiff(a: CaptureAnalysis, b: CaptureAnalysis): RamBlockDiff[] {
  const sizes = (x: CaptureAnalysis) => new Map(x.ramblocks.map((r) => [r.name, r.usedLength]));
  const sa = sizes(a);
  const sb = sizes(b);
  const names = [...new Set([...sa.keys(), ...sb.keys()])];
  const rank = { 'only-a': 0, 'only-b': 0, size: 0, same: 1 };
  return names
    .map((name): RamBlockDiff => {
      const x = sa.get(name);
      const y = sb.get(name);
      const status = x === undefined ? 'only-b' : y === undefined ? 'only-a' : x === y ? 'same' : 'size';
      return { name, ...(x !== undefined ? { a: x } : {}), ...(y !== undefined ? { b: y } : {}), status };
    })
    .sort((p, q) => rank[p.status] - rank[q.status]);
}
