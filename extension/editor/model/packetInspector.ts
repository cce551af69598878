import type { CaptureAnalysis } from '../../core/analysisTypes';
import { fieldMap } from '../../core/layout/fieldLayout';
import { DEVICE_STATE_LAYOUT, RAM_PACKET_LAYOUT } from '../../core/multifd/layouts';
import { offsetEntriesIn, offsetEntryPosition } from '../../core/multifd/packetHeaders';
import { readPacket } from '../../core/multifd/readPacket';
import { ChannelDecoder } from '../../core/replay/channelDecoder';
import { errorMessage } from '../../core/util/errorMessage';
import type { PacketDetails, PacketRef, PageContent, PayloadChunk } from '../../shared/protocol';
import type { PacketDiagnostics } from './packetDiagnostics';
import type { PacketIndex, PacketSource } from './packetIndex';
import type { PacketView } from './packetView';
import { readPacketFraming } from './packetFraming';
import { mainRecordDetails, mainRecordPage, readMainRecord } from './mainRecordDetails';

const MAX_PAYLOAD_CHUNK = 256 * 1024;
/** Decoded packets kept per channel: revisiting a packet, or its neighbours, does not decode again. */
const DECODED_CACHE = 8;
/** Methods whose codec state runs across a channel's packets (the others compress each page on its own). */
const STREAM_CODECS: ReadonlySet<string> = new Set(['zlib', 'zstd']);

/** One packet in detail: its header fields and offset[] entries, its payload bytes, and its pages. */
export class PacketInspector {
  /** Per source: the channel's codec stream for compressed pages, opened on first use. */
  private readonly channels = new Map<PacketSource, ChannelDecoder>();

  constructor(
    private readonly analysis: CaptureAnalysis,
    private readonly packets: PacketIndex,
    private readonly view: PacketView,
    private readonly diagnostics: PacketDiagnostics,
  ) {}

  /** The main-channel row a ref names, if it names one. */
  private mainRow(ref: PacketRef): number | undefined {
    const g = this.packets.globalId(ref);
    return g >= 0 && this.packets.isMain(g) ? g : undefined;
  }

  async packet(ref: PacketRef): Promise<PacketDetails> {
    const mi = this.mainRow(ref);
    if (mi !== undefined) {
      const m = this.packets.main!;
      const v = await readMainRecord(m, mi, this.analysis.pageSize);
      const row = this.packets.rowOf(mi, this.view.locate(ref));
      return mainRecordDetails(m, ref, v, row, this.diagnostics.ofPacket(ref));
    }
    const s = this.packets.sourceFor(ref);
    const d = await readPacket(s.bytes, s.index.packets, ref.index, this.analysis.pageSize);
    const layout = d.summary.kind === 'device-state' ? DEVICE_STATE_LAYOUT : RAM_PACKET_LAYOUT;
    const specs = fieldMap(layout);
    const n = d.normalOffsets.length;
    const offsets = [
      ...d.normalOffsets.map((value, slot) => ({
        slot,
        value,
        kind: 'normal' as const,
        headerOffset: offsetEntryPosition(slot),
      })),
      ...d.zeroOffsets.map((value, j) => ({
        slot: n + j,
        value,
        kind: 'zero' as const,
        headerOffset: offsetEntryPosition(n + j),
      })),
    ];
    const capacity = d.summary.kind === 'ram' ? offsetEntriesIn(d.header.length) : 0;
    const method = d.summary.method ?? s.index.method;
    const framing =
      d.summary.kind === 'ram'
        ? await readPacketFraming(s.bytes, { ...d.summary, method }, this.analysis.pageSize)
        : undefined;
    return {
      ref,
      row: this.packets.rowOf(this.packets.globalId(ref), this.view.locate(ref)),
      cStruct: layout.cStruct,
      headerOffset: d.summary.headerOffset,
      headerLength: d.summary.headerLength,
      payloadOffset: d.summary.payloadOffset,
      payloadLength: d.summary.payloadLength,
      header: d.header,
      fields: d.fields.map((f) => ({
        name: f.name,
        offset: f.offset,
        width: f.width,
        display: f.display,
        meaning: f.meaning,
        since: f.since,
        filterName: specs[f.name]?.filterName,
      })),
      offsetsFieldOffset: d.offsetsFieldOffset,
      offsetEntryWidth: offsetEntryPosition(1) - offsetEntryPosition(0),
      offsets,
      unusedSlots: Math.max(0, capacity - offsets.length),
      diagnostics: this.diagnostics.ofPacket(ref),
      framing,
      channelPrev: ref.index > 0 ? { stream: ref.stream, index: ref.index - 1 } : undefined,
      channelNext: ref.index + 1 < s.index.packets.length ? { stream: ref.stream, index: ref.index + 1 } : undefined,
    };
  }

  /** Payload bytes [start, start+length) of a packet, at most 256 KiB at a time. */
  async payload(ref: PacketRef, start: number, length: number): Promise<PayloadChunk> {
    const mi = this.mainRow(ref);
    if (mi !== undefined) {
      const m = this.packets.main!;
      const v = await readMainRecord(m, mi, this.analysis.pageSize);
      const a = Math.max(0, Math.min(start, v.payloadLength));
      const b = Math.min(v.payloadLength, a + Math.min(Math.max(0, length), MAX_PAYLOAD_CHUNK));
      const bytes = await m.bytesOf(mi).read(v.payloadOffset + a, v.payloadOffset + b);
      return { ref, start: a, bytes, total: v.payloadLength, streamOffset: v.payloadOffset + a };
    }
    const s = this.packets.sourceFor(ref);
    const p = s.index.packets.row(ref.index);
    const a = Math.max(0, Math.min(start, p.payloadLength));
    const b = Math.min(p.payloadLength, a + Math.min(Math.max(0, length), MAX_PAYLOAD_CHUNK));
    // A hole in the payload (a pcap's dropped segment): the bytes before it, never others in its place.
    const stop = Math.min(p.payloadOffset + b, s.bytes.presentUntil(p.payloadOffset + a));
    const bytes = await s.bytes.read(p.payloadOffset + a, stop);
    return { ref, start: a, bytes, total: p.payloadLength, streamOffset: p.payloadOffset + a };
  }

  /**
   * A page after decoding: zero pages are zeros; nocomp pages come straight from the payload; compressed pages
   * come from the channel decoder replay uses (zlib and zstd keep one stream per channel, so it decodes the
   * channel in order up to the packet).
   */
  async page(ref: PacketRef, slot: number, onProgress?: (message: string) => void): Promise<PageContent> {
    const mi = this.mainRow(ref);
    if (mi !== undefined) {
      const m = this.packets.main!;
      return mainRecordPage(m, ref, await readMainRecord(m, mi, this.analysis.pageSize), slot, this.analysis.pageSize);
    }
    const s = this.packets.sourceFor(ref);
    const d = await readPacket(s.bytes, s.index.packets, ref.index, this.analysis.pageSize);
    const ps = this.analysis.pageSize;
    const n = d.normalOffsets.length;
    const kind = slot < n ? 'normal' : 'zero';
    const offset = slot < n ? d.normalOffsets[slot] : d.zeroOffsets[slot - n];
    if (offset === undefined) throw new Error(`packet ${ref.index} of stream ${ref.stream} has no offset[${slot}]`);
    const base = { ref, slot, offset, ramblock: d.summary.ramblock, kind } as const;
    if (kind === 'zero')
      return {
        ...base,
        source: 'zero',
        bytes: new Uint8Array(ps),
        note: 'zero page: the destination fills it with zeros (no data on the wire)',
      };
    const method = d.summary.method ?? s.index.method ?? 'none';
    if (method === 'none') {
      const at = d.summary.payloadOffset + slot * ps;
      const hole = s.bytes.holeIn(at, at + ps);
      if (hole)
        return {
          ...base,
          source: 'unavailable',
          streamOffset: at,
          note: `not in the capture: ${hole.length} bytes at stream offset ${hole.streamOffset} are a hole (a segment the pcap lacks)`,
        };
      const bytes = await s.bytes.read(at, at + ps);
      return {
        ...base,
        source: 'payload',
        bytes,
        streamOffset: at,
        note: bytes.length < ps ? `the capture ends ${bytes.length} bytes into this page` : undefined,
      };
    }
    try {
      const progress =
        onProgress &&
        ((r: number, target: number) => onProgress(`decoding channel ${s.channel}: packet ${r} of ${target}`));
      const all = await this.decoder(s).decode(ref.index, progress);
      return {
        ...base,
        source: 'decoded',
        bytes: new Uint8Array(all.subarray(slot * ps, (slot + 1) * ps)),
        note: STREAM_CODECS.has(method)
          ? `decoded from the channel's ${method} stream`
          : `decoded from the packet's ${method} payload${await this.compressedSizeNote(s, d.summary, method, slot)}`,
      };
    } catch (e) {
      return { ...base, source: 'unavailable', note: `decoding the channel failed: ${errorMessage(e)}` };
    }
  }

  /** qpl/uadk: how the page travelled, from the size array (", 1234 compressed bytes" or ", sent raw"). */
  private async compressedSizeNote(
    s: PacketSource,
    p: Parameters<typeof readPacketFraming>[1],
    method: string,
    slot: number,
  ): Promise<string> {
    if (method !== 'qpl' && method !== 'uadk') return '';
    const f = await readPacketFraming(s.bytes, { ...p, method }, this.analysis.pageSize).catch(() => undefined);
    const page = f?.pages?.[slot];
    if (!page) return '';
    return page.raw
      ? ': the size array gives it the page size, so it was sent raw'
      : `: ${page.size} compressed bytes at payload byte ${page.start}`;
  }

  private decoder(s: PacketSource): ChannelDecoder {
    let c = this.channels.get(s);
    if (!c)
      this.channels.set(s, (c = new ChannelDecoder(s.index, s.bytes, { randomAccess: true, keep: DECODED_CACHE })));
    return c;
  }

  /** Releases the codec streams. */
  close(): void {
    for (const c of this.channels.values()) c.close();
    this.channels.clear();
  }
}
