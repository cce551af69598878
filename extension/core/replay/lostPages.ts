import type { CaptureAnalysis } from '../analysisTypes';
import type { MultifdStreamIndex } from '../multifd/indexMultifdStream';
import type { ProvenanceMap } from './provenance';
import { FLAG_SYNC } from '../multifd/constants';

/**
 * What replay could not rebuild because the capture has holes (multifd/resync.ts): pages whose packet header
 * survived but whose data did not (named by ramblock and offset), and packets lost whole with a header (named
 * by the packet_num values around them, since their pages are unknown).
 */

/** Most lost pages remembered one by one; past it they are only counted. */
const MAX_TRACKED = 1 << 20;

export interface LostPage {
  block: string;
  offset: number;
  stream: number;
  packet: number;
}

export interface LostPacketRange {
  stream: number;
  channel: number | null;
  holeOffset: number;
  /** packet_num of the last packet before the hole (-1: none). */
  afterPacketNum: number;
  /** packet_num of the first packet after it (undefined: decoding never resumed). */
  beforePacketNum?: number;
  /** packet_num values strictly between the two that no channel carries. */
  missing: number;
  /**
   * SYNC packets other channels carry between the two (the most any one channel has): this channel's SYNC
   * for those rounds was likely in the hole, so its later packets are counted that many epochs early.
   */
  syncRounds: number;
}

/** Whether a method's payloads continue one codec stream per channel (a hole ends what can be decoded). */
export function continuousCodec(method: string | undefined): boolean {
  return method === 'zlib' || method === 'zstd';
}

export class LostPages {
  private readonly byBlock = new Map<string, Map<number, { step: number; stream: number; packet: number }>>();
  private tracked = 0;
  /** Lost pages past MAX_TRACKED, not checked against later writes. */
  untracked = 0;

  add(block: string, offset: number, step: number, stream: number, packet: number): void {
    let m = this.byBlock.get(block);
    if (!m) this.byBlock.set(block, (m = new Map()));
    if (!m.has(offset) && this.tracked >= MAX_TRACKED) {
      this.untracked++;
      return;
    }
    if (!m.has(offset)) this.tracked++;
    m.set(offset, { step, stream, packet });
  }

  get size(): number {
    return this.tracked + this.untracked;
  }

  /**
   * Lost pages no later write replaced: the image holds an older value there (or nothing). A page rewritten
   * after its loss (a later dirty-page round) is rebuilt after all.
   */
  unrebuilt(provenance: ProvenanceMap): LostPage[] {
    const out: LostPage[] = [];
    for (const [block, m] of this.byBlock)
      for (const [offset, l] of m) {
        const last = provenance.packed(block, offset);
        if (last < 0 || Math.floor(last / 2) < l.step) out.push({ block, offset, stream: l.stream, packet: l.packet });
      }
    return out.sort((a, b) => (a.block < b.block ? -1 : a.block > b.block ? 1 : a.offset - b.offset));
  }
}

/** Packets lost whole in holes the indexer had to scan past, by packet_num (global across channels). */
export function lostPacketRanges(analysis: CaptureAnalysis): LostPacketRange[] {
  const out: LostPacketRange[] = [];
  const scanned = analysis.multifd.some((m) => m.holes.some((h) => h.scanned || h.resumedAt === undefined));
  if (!scanned) return out;
  // Sorted once, counted by binary search: a capture can have thousands of holes and millions of packets.
  const all = sortedUnique(analysis.multifd.flatMap((m) => packetNums(m, false)));
  const syncs = new Map(analysis.multifd.map((m) => [m, Float64Array.from(packetNums(m, true)).sort()]));
  for (const m of analysis.multifd)
    for (const h of m.holes) {
      if (!h.scanned && h.resumedAt !== undefined) continue;
      const after = packetNumAtOrBefore(m, h.rowBefore);
      const before = h.rowAfter === undefined ? undefined : packetNumAtOrAfter(m, h.rowAfter);
      let syncRounds = 0;
      for (const [c, nums] of syncs)
        if (c !== m) syncRounds = Math.max(syncRounds, countBetween(nums, after, before ?? Infinity));
      out.push({
        stream: m.streamId,
        channel: m.handshake?.channelId ?? null,
        holeOffset: h.streamOffset,
        afterPacketNum: after,
        beforePacketNum: before,
        missing:
          before === undefined || before <= after + 1 ? 0 : before - after - 1 - countBetween(all, after, before),
        syncRounds,
      });
    }
  return out;
}

/** packet_num of a channel's RAM packets (only its SYNCs with `syncOnly`). */
function packetNums(m: MultifdStreamIndex, syncOnly: boolean): number[] {
  const t = m.packets;
  const out: number[] = [];
  for (let r = 0; r < t.length; r++)
    if (!t.isDeviceState(r) && (!syncOnly || (t.flags.get(r) & FLAG_SYNC) !== 0)) out.push(t.packetNum.get(r));
  return out;
}

function sortedUnique(values: number[]): Float64Array {
  const a = Float64Array.from(values).sort();
  let n = 0;
  for (let i = 0; i < a.length; i++) if (i === 0 || a[i] !== a[i - 1]) a[n++] = a[i];
  return a.subarray(0, n);
}

/** How many entries of a sorted array lie strictly between a and b. */
function countBetween(sorted: Float64Array, a: number, b: number): number {
  return Math.max(0, firstAtLeast(sorted, b) - firstAbove(sorted, a));
}

function firstAbove(sorted: Float64Array, x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function firstAtLeast(sorted: Float64Array, x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function packetNumAtOrBefore(m: MultifdStreamIndex, row: number): number {
  for (let r = Math.min(row, m.packets.length - 1); r >= 0; r--)
    if (!m.packets.isDeviceState(r)) return m.packets.packetNum.get(r);
  return -1;
}

function packetNumAtOrAfter(m: MultifdStreamIndex, row: number): number | undefined {
  for (let r = row; r < m.packets.length; r++) if (!m.packets.isDeviceState(r)) return m.packets.packetNum.get(r);
  return undefined;
}

/** Runs of adjacent pages, for naming many lost pages in a few words: "mem 0x1000-0x3fff". */
export function describePages(pages: readonly LostPage[], pageSize: number, limit = 16): string {
  const runs: string[] = [];
  let i = 0;
  while (i < pages.length && runs.length < limit) {
    let j = i + 1;
    while (j < pages.length && pages[j].block === pages[i].block && pages[j].offset === pages[j - 1].offset + pageSize)
      j++;
    const last = pages[j - 1].offset + pageSize - 1;
    runs.push(
      `${pages[i].block} 0x${pages[i].offset.toString(16)}${j - i > 1 ? `-0x${last.toString(16)}` : ''} (stream ${pages[i].stream} packet ${pages[i].packet})`,
    );
    i = j;
  }
  return runs.join(', ') + (i < pages.length ? `, and ${countRuns(pages, i, pageSize)} more run(s)` : '');
}

function countRuns(pages: readonly LostPage[], from: number, pageSize: number): number {
  let n = 0;
  for (let k = from; k < pages.length; k++)
    if (k === from || pages[k].block !== pages[k - 1].block || pages[k].offset !== pages[k - 1].offset + pageSize) n++;
  return n;
}
