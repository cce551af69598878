import type { CaptureAnalysis } from '../../core/analysisTypes';
import type { StreamBytes } from '../../core/capture/streamBytes';
import { describeFlags } from '../../core/multifd/constants';
import type { MultifdStreamIndex } from '../../core/multifd/indexMultifdStream';
import type { DiagnosticLocation } from '../../core/diagnostics/diagnostic';
import type { PacketRef, PacketRow } from '../../shared/protocol';
import type { MainChannelRows } from './mainChannelRows';

/** One multifd stream of the capture, as the editor addresses it. */
export interface PacketSource {
  index: MultifdStreamIndex;
  bytes: StreamBytes;
  channel: number;
  uuid?: string;
  /** Global id of this stream's packet 0. */
  base: number;
}

/**
 * Every row of the packet list under one global id: the main channel's rows first (its records in stream
 * order, then its return-path messages: mainChannelRows.ts), then every multifd packet (streams one after the
 * other, in analysis order); and the way back to a stream and its packet table. The rows the webview shows
 * come from here. A main-channel row's PacketRef is (main stream id, row index in the main channel).
 */
export class PacketIndex {
  readonly sources: PacketSource[];
  /** Rows: main-channel rows and multifd packets. */
  readonly total: number;
  /** Main-channel rows, global ids [0, mainCount). */
  readonly mainCount: number;
  /** Multifd packets, global ids [mainCount, total). */
  readonly multifdCount: number;
  private readonly sourceOf: Uint16Array;
  /** Timestamp of the first row: row times count from it. */
  private readonly t0: number;

  constructor(
    readonly analysis: CaptureAnalysis,
    readonly main?: MainChannelRows,
  ) {
    this.mainCount = main?.count ?? 0;
    let base = this.mainCount;
    this.sources = analysis.multifd.map((index) => {
      const stream = analysis.streams.find((x) => x.id === index.streamId);
      if (!stream) throw new Error(`the analysis has no stream ${index.streamId} for its multifd index`);
      const src: PacketSource = {
        index,
        bytes: stream.stream.toDestination,
        channel: index.handshake?.channelId ?? -1,
        uuid: index.handshake?.uuid,
        base,
      };
      base += index.packets.length;
      return src;
    });
    this.total = base;
    this.multifdCount = base - this.mainCount;
    this.sourceOf = new Uint16Array(this.multifdCount);
    let t0 = main?.firstTime() ?? Infinity;
    this.sources.forEach((s, i) => {
      this.sourceOf.fill(i, s.base - this.mainCount, s.base - this.mainCount + s.index.packets.length);
      if (s.index.packets.length) t0 = Math.min(t0, s.index.packets.timestamp.get(0));
    });
    this.t0 = Number.isFinite(t0) ? t0 : 0;
  }

  /** Whether global id g is a main-channel row (its index in the main channel is g). */
  isMain(g: number): boolean {
    return g < this.mainCount;
  }

  get firstTimeNs(): number {
    return this.t0;
  }

  sourceIndexOfStream(stream: number): number {
    return this.sources.findIndex((s) => s.index.streamId === stream);
  }

  /** Global id of a packet, -1 when the capture has no such packet. */
  globalId(ref: PacketRef): number {
    if (this.main && ref.stream === this.main.streamId)
      return Number.isInteger(ref.index) && ref.index >= 0 && ref.index < this.mainCount ? ref.index : -1;
    const si = this.sourceIndexOfStream(ref.stream);
    if (si < 0) return -1;
    const s = this.sources[si];
    if (!Number.isInteger(ref.index) || ref.index < 0 || ref.index >= s.index.packets.length) return -1;
    return s.base + ref.index;
  }

  /** The multifd stream of global id g (g ≥ mainCount). */
  sourceOfId(g: number): PacketSource {
    return this.sources[this.sourceOf[g - this.mainCount]];
  }

  /** The stream holding a multifd packet; throws naming the packet when there is none. */
  sourceFor(ref: PacketRef): PacketSource {
    const g = this.globalId(ref);
    if (g < 0 || this.isMain(g)) throw new Error(`no packet ${ref.index} in stream ${ref.stream}`);
    return this.sourceOfId(g);
  }

  /** The main-channel row a diagnostic points at, when it points into the main channel. */
  mainRowOf(location: DiagnosticLocation): number | undefined {
    return this.main?.rowOfLocation(location);
  }

  rowOf(g: number, viewIndex: number): PacketRow {
    if (this.isMain(g)) return this.main!.row(g, viewIndex, this.t0);
    const s = this.sourceOfId(g);
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
      normalPages: p.normalPages,
      zeroPages: p.zeroPages,
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
      for (let i = 0; i < t.length; i++)
        if (t.packetNum.get(i) === num && !t.isDeviceState(i)) out.push({ stream: s.index.streamId, index: i });
    }
    return out;
  }

  /** Every ramblock known: from MEM_SIZE, then those named by packets. */
  blocks(): string[] {
    const out = new Set(this.analysis.ramblocks.map((b) => b.name));
    for (const b of this.packetRamblocks()) out.add(b);
    return [...out];
  }

  /** ramblocks named by packets, as QEMU looks them up (without the empty name of packets that carry none). */
  packetRamblocks(): string[] {
    const out = new Set<string>();
    for (const s of this.sources) for (const b of s.index.ramblockLookups) if (b) out.add(b);
    return [...out];
  }
}
