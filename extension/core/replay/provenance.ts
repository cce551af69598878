import type { CaptureAnalysis } from '../analysisTypes';
import { SparsePageMap } from '../util/sparsePageMap';
import { WriterKind } from './schedule';

/** Why a page holds what it holds: the write that came last in replay order. */
export interface PageProvenance {
  kind: 'normal' | 'zero' | 'main-page' | 'main-zero' | 'preempt-page' | 'preempt-zero' | 'mapped-ram' | 'never';
  /** Capture stream id of the writer. */
  stream?: number;
  /** multifd channel id (handshake id). */
  channel?: number;
  /** Packet index in its stream (multifd) or RAM record index (main channel). */
  packetIndex?: number;
  record?: number;
  packetNum?: number;
  epoch?: number;
  /** Position in the replay schedule. */
  step?: number;
}

/**
 * page → last writer, per ramblock. A value packs the schedule position and whether the write was a zero
 * page: 4 bytes a page where pages are written densely, about 25 where they are scattered (SparsePageMap), so
 * memory follows the pages the capture carries, whatever the block's size.
 */
export class ProvenanceMap {
  private readonly maps = new Map<string, SparsePageMap>();

  constructor(private readonly pageSize: number) {}

  private mapFor(block: string): SparsePageMap {
    let m = this.maps.get(block);
    if (!m) this.maps.set(block, (m = new SparsePageMap(-1, 1 << 20)));
    return m;
  }

  /** Records a write; returns the previous writer's packed value (-1 if none). */
  record(block: string, offset: number, step: number, zero: boolean): number {
    const m = this.mapFor(block);
    const page = Math.floor(offset / this.pageSize);
    const prev = m.get(page);
    m.set(page, step * 2 + (zero ? 1 : 0));
    return prev;
  }

  packed(block: string, offset: number): number {
    return this.maps.get(block)?.get(Math.floor(offset / this.pageSize)) ?? -1;
  }

  /** Calls fn with the packed value of every written page below page `limitPages` of a block. */
  forEachWritten(block: string, limitPages: number, fn: (packed: number) => void): void {
    this.maps.get(block)?.forEachSet(limitPages, (_, v) => fn(v));
  }

  blocks(): string[] {
    return [...this.maps.keys()];
  }
}

export function describeProvenance(analysis: CaptureAnalysis, packed: number): PageProvenance {
  if (packed < 0) return { kind: 'never' };
  const step = packed >>> 1;
  const zero = (packed & 1) === 1;
  const s = analysis.schedule;
  const epoch = s.epoch[step];
  if (s.kind[step] === WriterKind.Multifd) {
    const m = analysis.multifd[s.source[step]];
    const row = s.row[step];
    return {
      kind: zero ? 'zero' : 'normal',
      stream: m.streamId,
      channel: m.handshake?.channelId,
      packetIndex: row,
      packetNum: m.packets.packetNum.get(row),
      epoch,
      step,
    };
  }
  // mapped-ram: record is the window of pages read in place.
  if (s.kind[step] === WriterKind.MappedRam)
    return { kind: 'mapped-ram', stream: analysis.mappedRam?.streamId, record: s.row[step], epoch, step };
  if (s.kind[step] === WriterKind.Preempt)
    return {
      kind: zero ? 'preempt-zero' : 'preempt-page',
      stream: analysis.postcopy?.preempt?.streamId,
      record: s.row[step],
      epoch,
      step,
    };
  return { kind: zero ? 'main-zero' : 'main-page', stream: analysis.main?.streamId, record: s.row[step], epoch, step };
}

export function formatProvenance(p: PageProvenance): string {
  switch (p.kind) {
    case 'never':
      return 'never written';
    case 'normal':
    case 'zero':
      return `${p.kind === 'zero' ? 'zero page' : 'data'} from stream ${p.stream} (channel ${p.channel ?? '?'}) packet ${p.packetIndex}, packet_num ${p.packetNum}, epoch ${p.epoch}`;
    case 'mapped-ram':
      return `page in the mapped-ram image (its bitmap bit set), read in place: replay window ${p.record} (stream ${p.stream})`;
    case 'preempt-page':
    case 'preempt-zero':
      return `${p.kind === 'preempt-zero' ? 'ZERO' : 'PAGE'} record ${p.record} on the postcopy preempt channel (stream ${p.stream})`;
    default:
      return `${p.kind === 'main-zero' ? 'ZERO' : 'PAGE'} record ${p.record} on the main channel (stream ${p.stream}), epoch ${p.epoch}`;
  }
}
