import { basename } from 'node:path';
import type { CaptureAnalysis } from '../../core/analysisTypes';
import { streamCursor, type StreamBytes } from '../../core/capture/streamBytes';
import type { ReadAhead } from '../../core/capture/readAhead';
import { formatLocation, type Diagnostic } from '../../core/diagnostics/diagnostic';
import { parseFilter } from '../../core/filter/filter';
import { filterFieldHelp } from '../../core/filter/filter';
import type { FilterRow } from '../../core/filter/fields';
import { fieldMap } from '../../core/layout/fieldLayout';
import { describeFlags, pageCount } from '../../core/multifd/constants';
import type { MultifdStreamIndex } from '../../core/multifd/indexMultifdStream';
import { DEVICE_STATE_LAYOUT, RAM_PACKET_LAYOUT } from '../../core/multifd/layouts';
import type { PacketSummary } from '../../core/multifd/packetTable';
import { packetOffsets, readPacket } from '../../core/multifd/readPacket';
import { createReceiver, type PacketPayloadReceiver } from '../../core/replay/receivers/receiver';
import { buildCaptureReport } from '../../core/captureReport';
import {
  DEFAULT_VIEW,
  type DiagnosticInfo,
  type FilterFieldInfo,
  type PacketDetails,
  type PacketRef,
  type PacketRow,
  type PageContent,
  type PageMapInfo,
  type PageWriterInfo,
  type PayloadChunk,
  type SortColumn,
  type SummaryInfo,
  type ViewInfo,
  type ViewSpec,
} from '../../shared/protocol';
import { SchedulePageUsage, type PageUsageSource, type PageWrite } from './pageUsage';

interface Source {
  index: MultifdStreamIndex;
  bytes: StreamBytes;
  channel: number;
  uuid?: string;
  /** Global id of this stream's packet 0. */
  base: number;
}

interface View {
  id: number;
  spec: ViewSpec;
  /** Global packet ids in view order. */
  perm: Uint32Array;
  inverse?: Int32Array;
}

/** Mismatching page ranges from a compare, per ramblock ([start, end) byte offsets). */
export type MismatchRanges = Map<string, { start: number; end: number }[]>;

const MAX_PAYLOAD_CHUNK = 256 * 1024;
const DECODED_CACHE = 8;

const yieldToLoop = () => new Promise<void>((r) => setImmediate(r));

/**
 * The document model of one capture, in the extension host: the analysis from the core, plus the current
 * view (filter + sort) as a permutation over global packet ids. Everything the webview shows comes from
 * here in ranges. No `vscode` import: unit-tested with plain Node.
 */
export class CaptureModel {
  readonly sources: Source[];
  readonly total: number;
  private readonly sourceOf: Uint16Array;
  private readonly t0: number;
  private view: View;
  private viewCounter = 0;
  private generation = 0;
  private readonly packetDiagnostics = new Map<string, number[]>();
  private readonly decoders = new Map<number, { receiver: PacketPayloadReceiver; next: number; cache: Map<number, Uint8Array>; chain: Promise<unknown> }>();
  private mismatches: MismatchRanges = new Map();
  readonly pageUsage: PageUsageSource;

  constructor(readonly analysis: CaptureAnalysis, pageUsage?: PageUsageSource) {
    this.pageUsage = pageUsage ?? new SchedulePageUsage(analysis);
    let base = 0;
    this.sources = analysis.multifd.map((index) => {
      const s = analysis.streams.find((x) => x.id === index.streamId)!;
      const src: Source = { index, bytes: s.stream.toDestination, channel: index.handshake?.channelId ?? -1, uuid: index.handshake?.uuid, base };
      base += index.packets.length;
      return src;
    });
    this.total = base;
    this.sourceOf = new Uint16Array(base);
    let t0 = Infinity;
    this.sources.forEach((s, i) => {
      this.sourceOf.fill(i, s.base, s.base + s.index.packets.length);
      if (s.index.packets.length) t0 = Math.min(t0, s.index.packets.timestamp.get(0));
    });
    this.t0 = Number.isFinite(t0) ? t0 : 0;
    analysis.diagnostics.forEach((d, i) => {
      if (d.location.stream === undefined || d.location.packet === undefined) return;
      const k = `${d.location.stream}:${d.location.packet}`;
      const list = this.packetDiagnostics.get(k);
      if (list) list.push(i);
      else this.packetDiagnostics.set(k, [i]);
    });
    this.view = { id: ++this.viewCounter, spec: DEFAULT_VIEW, perm: this.sortedIds(this.allIds(), DEFAULT_VIEW.sort) };
  }

  get fileName(): string {
    return basename(this.analysis.capture.path);
  }

  get currentView(): { id: number; spec: ViewSpec; rowCount: number } {
    return { id: this.view.id, spec: this.view.spec, rowCount: this.view.perm.length };
  }

  // ---- packet addressing ---------------------------------------------------------------------------

  private sourceIndexOfStream(stream: number): number {
    return this.sources.findIndex((s) => s.index.streamId === stream);
  }

  globalId(ref: PacketRef): number {
    const si = this.sourceIndexOfStream(ref.stream);
    if (si < 0) return -1;
    const s = this.sources[si];
    if (!Number.isInteger(ref.index) || ref.index < 0 || ref.index >= s.index.packets.length) return -1;
    return s.base + ref.index;
  }

  refOf(g: number): PacketRef {
    const s = this.sources[this.sourceOf[g]];
    return { stream: s.index.streamId, index: g - s.base };
  }

  private sourceFor(ref: PacketRef): Source {
    const si = this.sourceIndexOfStream(ref.stream);
    const s = this.sources[si];
    if (!s || !Number.isInteger(ref.index) || ref.index < 0 || ref.index >= s.index.packets.length) throw new Error(`no packet ${ref.index} in stream ${ref.stream}`);
    return s;
  }

  summaryOf(g: number): PacketSummary {
    const s = this.sources[this.sourceOf[g]];
    return s.index.packets.row(g - s.base);
  }

  rowOf(g: number, viewIndex: number): PacketRow {
    const s = this.sources[this.sourceOf[g]];
    const p = s.index.packets.row(g - s.base);
    return {
      stream: p.stream,
      index: p.index,
      viewIndex,
      channel: s.channel,
      kind: p.kind,
      epoch: p.epoch,
      packetNum: p.packetNum,
      flags: p.flags,
      flagsText: describeFlags(p.flags),
      sync: p.sync,
      method: p.method ?? 'unknown',
      ramblock: p.ramblock,
      normal: p.normalPages,
      zero: p.zeroPages,
      nextPacketSize: p.nextPacketSize,
      timeNs: p.timestampNs - this.t0,
      severity: p.severity,
    };
  }

  /** Packets whose packet_num is `num` (a number can appear twice on ≤ 8.2 senders: SYNC + its trailer). */
  findByPacketNum(num: number): PacketRef[] {
    const out: PacketRef[] = [];
    for (const s of this.sources) {
      const t = s.index.packets;
      for (let i = 0; i < t.length; i++) if (t.packetNum.get(i) === num && !t.isDeviceState(i)) out.push({ stream: s.index.streamId, index: i });
    }
    return out;
  }

  // ---- views: filter and sort over the columnar tables -------------------------------------------

  private allIds(): Uint32Array {
    const ids = new Uint32Array(this.total);
    for (let i = 0; i < this.total; i++) ids[i] = i;
    return ids;
  }

  private sortKeys(column: SortColumn): Float64Array {
    const keys = new Float64Array(this.total);
    let rank: Map<number, number> | undefined;
    if (column === 'ramblock') {
      const values = this.analysis.names.values;
      const order = values.map((_, i) => i).sort((a, b) => (values[a] < values[b] ? -1 : values[a] > values[b] ? 1 : 0));
      rank = new Map(order.map((id, r) => [id, r]));
    }
    for (const s of this.sources) {
      const t = s.index.packets;
      for (let i = 0; i < t.length; i++) {
        let k: number;
        switch (column) {
          case 'time':
            k = t.timestamp.get(i);
            break;
          case 'stream':
            k = s.index.streamId;
            break;
          case 'epoch':
            k = t.epoch.get(i);
            break;
          case 'packet_num':
            k = t.packetNum.get(i);
            break;
          case 'flags':
            k = t.flags.get(i);
            break;
          case 'ramblock':
            k = rank!.get(t.name.get(i)) ?? 0;
            break;
          case 'normal':
            k = t.normalPages.get(i);
            break;
          case 'zero':
            k = t.zeroPages.get(i);
            break;
          case 'next_packet_size':
            k = t.nextPacketSize.get(i);
            break;
        }
        keys[s.base + i] = k;
      }
    }
    return keys;
  }

  private sortedIds(ids: Uint32Array, sort: ViewSpec['sort']): Uint32Array {
    const keys = this.sortKeys(sort.column);
    const dir = sort.direction === 'desc' ? -1 : 1;
    // Ties keep capture order (stream, then index), whatever the direction.
    return ids.sort((a, b) => dir * (keys[a] - keys[b]) || a - b);
  }

  /**
   * Applies a filter and a sort. A newer call supersedes an older one still running (it then resolves with
   * `cancelled`). A filter with a syntax error leaves the current view in place and reports the error.
   */
  async setView(spec: ViewSpec, onProgress?: (message: string) => void): Promise<ViewInfo> {
    const gen = ++this.generation;
    const parsed = parseFilter(spec.filter);
    if (!parsed.ok) return { viewId: this.view.id, rowCount: this.view.perm.length, totalCount: this.total, error: parsed.error };
    const f = parsed.filter;
    let ids: Uint32Array;
    if (!f.text) ids = this.allIds();
    else {
      const keep = new Uint32Array(this.total);
      let n = 0;
      const undecided: number[] = [];
      for (let g = 0; g < this.total; g++) {
        const s = this.sources[this.sourceOf[g]];
        const row: FilterRow = { summary: s.index.packets.row(g - s.base), channel: s.channel, uuid: s.uuid };
        const r = f.test(row);
        if (r === true) keep[n++] = g;
        else if (r === undefined) undecided.push(g);
        if ((g & 0x3fff) === 0x3fff) {
          await yieldToLoop();
          if (gen !== this.generation) return { viewId: this.view.id, rowCount: this.view.perm.length, totalCount: this.total, cancelled: true };
        }
      }
      // Only rows the other conditions left open need their header (offset[]) read; they come in stream
      // order, so one read-ahead window per stream serves many headers.
      const cursors = new Map<number, ReadAhead>();
      for (let j = 0; j < undecided.length; j++) {
        const g = undecided[j];
        const si = this.sourceOf[g];
        let cursor = cursors.get(si);
        if (!cursor) cursors.set(si, (cursor = streamCursor(this.sources[si].bytes)));
        const row = await this.filterRowWithOffsets(g, cursor);
        if (f.test(row) === true) keep[n++] = g;
        if ((j & 0x3ff) === 0x3ff) {
          onProgress?.(`filtering: read ${j + 1} of ${undecided.length} packet headers`);
          await yieldToLoop();
          if (gen !== this.generation) return { viewId: this.view.id, rowCount: this.view.perm.length, totalCount: this.total, cancelled: true };
        }
      }
      ids = keep.slice(0, n);
      if (undecided.length) ids.sort();
    }
    const perm = this.sortedIds(ids, spec.sort);
    if (gen !== this.generation) return { viewId: this.view.id, rowCount: this.view.perm.length, totalCount: this.total, cancelled: true };
    this.view = { id: ++this.viewCounter, spec, perm };
    return { viewId: this.view.id, rowCount: perm.length, totalCount: this.total };
  }

  private async filterRowWithOffsets(g: number, cursor: ReadAhead): Promise<FilterRow> {
    const s = this.sources[this.sourceOf[g]];
    const summary = s.index.packets.row(g - s.base);
    const row: FilterRow = { summary, channel: s.channel, uuid: s.uuid, offsets: { normal: [], zero: [] } };
    if (summary.kind !== 'ram' || summary.normalPages + summary.zeroPages === 0) return row;
    const header = await cursor.bytes(summary.headerOffset, summary.headerLength);
    const o = packetOffsets(header, summary.normalPages, summary.zeroPages, Math.min(summary.pagesAlloc, pageCount(this.analysis.pageSize)));
    row.offsets = { normal: o.normalOffsets, zero: o.zeroOffsets };
    return row;
  }

  /** Rows [start, start+count) of the current view. */
  rows(start: number, count: number): { viewId: number; start: number; rows: PacketRow[] } {
    const perm = this.view.perm;
    const a = Math.max(0, Math.min(start, perm.length));
    const b = Math.max(a, Math.min(perm.length, a + Math.min(count, 2000)));
    const rows: PacketRow[] = [];
    for (let i = a; i < b; i++) rows.push(this.rowOf(perm[i], i));
    return { viewId: this.view.id, start: a, rows };
  }

  /** Position of a packet in the current view, -1 when filtered out. */
  locate(ref: PacketRef): number {
    const g = this.globalId(ref);
    if (g < 0) return -1;
    if (!this.view.inverse) {
      const inv = new Int32Array(this.total).fill(-1);
      this.view.perm.forEach((id, i) => (inv[id] = i));
      this.view.inverse = inv;
    }
    return this.view.inverse[g];
  }

  /** Global ids of the current view, in order (exports). */
  viewIds(): Uint32Array {
    return this.view.perm;
  }

  // ---- one packet -----------------------------------------------------------------------------------

  async packet(ref: PacketRef): Promise<PacketDetails> {
    const s = this.sourceFor(ref);
    const d = await readPacket(s.bytes, s.index.packets, ref.index, this.analysis.pageSize);
    const layout = d.summary.kind === 'device-state' ? DEVICE_STATE_LAYOUT : RAM_PACKET_LAYOUT;
    const specs = fieldMap(layout);
    const base = d.offsetsFieldOffset;
    const offsets = [
      ...d.normalOffsets.map((value, slot) => ({ slot, value, kind: 'normal' as const, headerOffset: base + 8 * slot })),
      ...d.zeroOffsets.map((value, j) => ({ slot: d.normalOffsets.length + j, value, kind: 'zero' as const, headerOffset: base + 8 * (d.normalOffsets.length + j) })),
    ];
    const capacity = d.summary.kind === 'ram' ? Math.max(0, Math.floor((d.header.length - base) / 8)) : 0;
    const g = this.globalId(ref);
    return {
      ref,
      row: this.rowOf(g, this.locate(ref)),
      cStruct: layout.cStruct,
      headerOffset: d.summary.headerOffset,
      headerLength: d.summary.headerLength,
      payloadOffset: d.summary.payloadOffset,
      payloadLength: d.summary.payloadLength,
      header: d.header,
      fields: d.fields.map((f) => ({ name: f.name, offset: f.offset, width: f.width, display: f.display, meaning: f.meaning, since: f.since, filterName: specs[f.name]?.filterName })),
      offsetsFieldOffset: base,
      offsets,
      unusedSlots: Math.max(0, capacity - offsets.length),
      diagnostics: (this.packetDiagnostics.get(`${ref.stream}:${ref.index}`) ?? []).map((i) => this.diagnosticInfo(i)),
      channelPrev: ref.index > 0 ? { stream: ref.stream, index: ref.index - 1 } : undefined,
      channelNext: ref.index + 1 < s.index.packets.length ? { stream: ref.stream, index: ref.index + 1 } : undefined,
    };
  }

  async payload(ref: PacketRef, start: number, length: number): Promise<PayloadChunk> {
    const s = this.sourceFor(ref);
    const p = s.index.packets.row(ref.index);
    const a = Math.max(0, Math.min(start, p.payloadLength));
    const b = Math.min(p.payloadLength, a + Math.min(Math.max(0, length), MAX_PAYLOAD_CHUNK));
    const bytes = await s.bytes.read(p.payloadOffset + a, p.payloadOffset + b);
    return { ref, start: a, bytes, total: p.payloadLength, streamOffset: p.payloadOffset + a };
  }

  /**
   * A page after decoding: zero pages are zeros; nocomp pages come straight from the payload; zlib/zstd pages
   * come from decoding the channel in order up to the packet (QEMU's codecs keep one stream per channel).
   */
  async page(ref: PacketRef, slot: number, onProgress?: (message: string) => void): Promise<PageContent> {
    const s = this.sourceFor(ref);
    const d = await readPacket(s.bytes, s.index.packets, ref.index, this.analysis.pageSize);
    const ps = this.analysis.pageSize;
    const n = d.normalOffsets.length;
    const kind = slot < n ? 'normal' : 'zero';
    const offset = slot < n ? d.normalOffsets[slot] : d.zeroOffsets[slot - n];
    if (offset === undefined) throw new Error(`packet ${ref.index} of stream ${ref.stream} has no offset[${slot}]`);
    const base = { ref, slot, offset, ramblock: d.summary.ramblock, kind } as const;
    if (kind === 'zero') return { ...base, source: 'zero', bytes: new Uint8Array(ps), note: 'zero page: the destination fills it with zeros (no data on the wire)' };
    const method = d.summary.method ?? s.index.method ?? 'none';
    if (method === 'none') {
      const at = d.summary.payloadOffset + slot * ps;
      const bytes = await s.bytes.read(at, at + ps);
      return { ...base, source: 'payload', bytes, streamOffset: at, note: bytes.length < ps ? `the capture ends ${bytes.length} bytes into this page` : undefined };
    }
    if (method !== 'zlib' && method !== 'zstd') return { ...base, source: 'unavailable', note: `${method}: pages compressed with this method cannot be decoded here` };
    try {
      const all = await this.decodePacket(this.sourceIndexOfStream(ref.stream), ref.index, onProgress);
      return { ...base, source: 'decoded', bytes: new Uint8Array(all.subarray(slot * ps, (slot + 1) * ps)), note: `decoded from the channel's ${method} stream` };
    } catch (e) {
      return { ...base, source: 'unavailable', note: `decoding the channel failed: ${(e as Error).message}` };
    }
  }

  private decodePacket(si: number, row: number, onProgress?: (message: string) => void): Promise<Uint8Array> {
    let st = this.decoders.get(si);
    const src = this.sources[si];
    if (!st) {
      st = { receiver: createReceiver(src.index.method ?? 'none', this.analysis.pageSize), next: 0, cache: new Map(), chain: Promise.resolve() };
      this.decoders.set(si, st);
    }
    const state = st;
    const job = state.chain.then(async () => {
      const hit = state.cache.get(row);
      if (hit) return hit;
      if (row < state.next) {
        // Earlier than where the channel's codec stream is: start it over.
        state.receiver.close();
        state.receiver = createReceiver(src.index.method ?? 'none', this.analysis.pageSize);
        state.next = 0;
      }
      const t = src.index.packets;
      let result: Uint8Array | undefined;
      while (state.next <= row) {
        const r = state.next++;
        if (t.isDeviceState(r) || t.normalPages.get(r) === 0) continue;
        const start = t.headerOffset.get(r) + t.headerLength.get(r);
        const payload = await src.bytes.read(start, start + t.payloadLength.get(r));
        const out = await state.receiver.receive(payload, Math.min(t.normalPages.get(r), t.pagesAlloc.get(r)));
        if (r === row || row - r < DECODED_CACHE) {
          state.cache.set(r, new Uint8Array(out));
          while (state.cache.size > DECODED_CACHE) state.cache.delete(state.cache.keys().next().value!);
        }
        if (r === row) result = out;
        if ((r & 0xff) === 0xff) onProgress?.(`decoding channel ${src.channel}: packet ${r} of ${row}`);
      }
      if (!result) throw new Error(`packet ${row} carries no pages`);
      return result;
    });
    state.chain = job.catch(() => {
      // A failed codec stream stays failed: start over next time.
      state.receiver.close();
      state.receiver = createReceiver(src.index.method ?? 'none', this.analysis.pageSize);
      state.next = 0;
      state.cache.clear();
    });
    return job;
  }

  /** Releases codec streams and the capture file. */
  async dispose(): Promise<void> {
    this.generation++;
    for (const d of this.decoders.values()) d.receiver.close();
    this.decoders.clear();
    await this.analysis.capture.source.close();
  }

  // ---- diagnostics, summary ----------------------------------------------------------------------

  diagnosticInfo(i: number): DiagnosticInfo {
    const d: Diagnostic = this.analysis.diagnostics[i];
    const packet = d.location.stream !== undefined && d.location.packet !== undefined && this.globalId({ stream: d.location.stream, index: d.location.packet }) >= 0 ? { stream: d.location.stream, index: d.location.packet } : undefined;
    return { id: i, code: d.code, severity: d.severity, message: d.message, location: formatLocation(d.location), packet };
  }

  diagnostics(start: number, count: number, severity?: DiagnosticInfo['severity']): { total: number; start: number; items: DiagnosticInfo[] } {
    const ids: number[] = [];
    this.analysis.diagnostics.forEach((d, i) => {
      if (!severity || d.severity === severity) ids.push(i);
    });
    const a = Math.max(0, Math.min(start, ids.length));
    return { total: ids.length, start: a, items: ids.slice(a, a + Math.min(count, 500)).map((i) => this.diagnosticInfo(i)) };
  }

  summary(trusted: boolean): SummaryInfo {
    const r = buildCaptureReport(this.analysis);
    const packetRamblocks = new Set<string>();
    for (const s of this.sources) for (const b of s.index.ramblocksSeen) packetRamblocks.add(b);
    return {
      fileName: this.fileName,
      format: r.format,
      formatDescription: r.formatDescription,
      qemuVersionHint: r.qemuVersionHint,
      qemuVersionReasons: r.qemuVersionReasons,
      pageSize: r.pageSize,
      pageSizeSource: r.pageSizeSource,
      channels: r.streams.filter((s) => s.kind === 'multifd').map((s) => ({ stream: s.id, channel: s.channel, packets: s.packets, compression: s.compression, uuid: s.uuid })),
      compression: r.compression,
      totals: r.totals,
      diagnosticCounts: r.diagnosticCounts as SummaryInfo['diagnosticCounts'],
      ramblocks: r.ramblocks,
      packetRamblocks: [...packetRamblocks].filter((b) => b !== ''),
      hasMainChannel: !!this.analysis.main,
      trusted,
    };
  }

  filterFields(): FilterFieldInfo[] {
    return filterFieldHelp();
  }

  /** Every ramblock known: from MEM_SIZE, then those named by packets. */
  blocks(): string[] {
    const out = new Set(this.analysis.ramblocks.map((b) => b.name));
    for (const s of this.sources) for (const b of s.index.ramblocksSeen) if (b) out.add(b);
    return [...out];
  }

  // ---- pages ------------------------------------------------------------------------------------------

  setMismatches(m: MismatchRanges): void {
    this.mismatches = m;
  }

  async pageMap(block: string, onProgress?: (message: string) => void): Promise<PageMapInfo> {
    const base = await this.pageUsage.buildPageMap(block, (done, total) => onProgress?.(`page map: ${done} of ${total} writes`));
    const states = new Uint8Array(base);
    const ps = this.analysis.pageSize;
    const ranges = this.mismatches.get(block) ?? [];
    for (const r of ranges) for (let p = Math.floor(r.start / ps); p < Math.ceil(r.end / ps) && p < states.length; p++) states[p] = 4;
    const counts = [0, 0, 0, 0, 0];
    for (let i = 0; i < states.length; i++) counts[states[i]]++;
    return { block, pageSize: ps, states, counts, compared: this.mismatches.size > 0 };
  }

  async pageWriters(block: string | undefined, offset: number): Promise<PageWriterInfo[]> {
    const writers = await this.pageUsage.findPageWriters(block, offset);
    return writers.map((w) => describeWrite(w));
  }
}

export function describeWrite(w: PageWrite & { block: string }): PageWriterInfo {
  const what = w.kind === 'zero' ? 'zero page' : w.kind === 'normal' ? 'data' : w.kind === 'main-zero' ? 'ZERO record' : 'PAGE record';
  if (w.packet !== undefined) {
    return {
      ref: { stream: w.stream, index: w.packet },
      kind: w.kind,
      epoch: w.epoch,
      packetNum: w.packetNum,
      label: `${what} in ${w.block}: stream ${w.stream} (channel ${w.channel ?? '?'}) packet ${w.packet}, packet_num ${w.packetNum}, epoch ${w.epoch}`,
    };
  }
  return { record: w.record, kind: w.kind, epoch: w.epoch, label: `${what} in ${w.block}: main channel (stream ${w.stream}) RAM record ${w.record}, epoch ${w.epoch}` };
}

/** Parses "0x1f000", "126976", "pc.ram:0x1f000", "0x1f000 pc.ram", "pc.ram 0x1f000". */
export function parsePageQuery(text: string): { offset: number; block?: string } | { error: string } {
  const t = text.trim();
  if (!t) return { error: 'enter a page offset (hex 0x… or decimal), optionally with a ramblock: pc.ram:0x1f000' };
  const num = /^(0x[0-9a-f_]+|\d[\d_]*)$/i;
  const parts = t.includes(':') && !/^0x/i.test(t) ? [t.slice(0, t.lastIndexOf(':')), t.slice(t.lastIndexOf(':') + 1)] : t.split(/\s+/);
  if (parts.length === 1) {
    if (!num.test(parts[0])) return { error: `"${parts[0]}" is not an offset (hex 0x… or decimal)` };
    return { offset: toNumber(parts[0]) };
  }
  if (parts.length !== 2) return { error: 'expected an offset and at most one ramblock name' };
  const [a, b] = parts.map((p) => p.trim());
  if (num.test(b)) return { offset: toNumber(b), block: a };
  if (num.test(a)) return { offset: toNumber(a), block: b };
  return { error: `neither "${a}" nor "${b}" is an offset` };
}

function toNumber(s: string): number {
  const c = s.replace(/_/g, '');
  return /^0x/i.test(c) ? parseInt(c.slice(2), 16) : Number(c);
}

/** Parses Go to Packet input: "3:12" / "stream 3 packet 12" / "#45" (packet_num) / "12" (view row). */
export function parsePacketQuery(text: string): { ref: PacketRef } | { packetNum: number } | { viewIndex: number } | { error: string } {
  const t = text.trim().toLowerCase();
  let m = /^(?:stream\s*)?(\d+)\s*[:/ ]\s*(?:packet\s*)?(\d+)$/.exec(t);
  if (m) return { ref: { stream: Number(m[1]), index: Number(m[2]) } };
  m = /^(?:#|packet_num\s*=?=?\s*)(0x[0-9a-f]+|\d+)$/.exec(t);
  if (m) return { packetNum: toNumber(m[1]) };
  m = /^(?:row\s*)?(\d+)$/.exec(t);
  if (m) return { viewIndex: Number(m[1]) };
  return { error: 'use "stream:index" (3:12), "#packet_num" (#45) or a row number in the list' };
}
