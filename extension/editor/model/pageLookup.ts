import { PAGE_STATES, PageState, type PageMapInfo, type PageWriterInfo } from '../../shared/protocol';
import type { PageUsageSource, PageWrite } from './pageUsage';

/** Mismatching page ranges from a compare, per ramblock ([start, end) byte offsets). */
export type MismatchRanges = Map<string, { start: number; end: number }[]>;

/** Pages of a ramblock: the page map (with the last compare's mismatches) and the writes that touched a page. */
export class PageLookup {
  private mismatches: MismatchRanges = new Map();

  constructor(
    private readonly usage: PageUsageSource,
    private readonly pageSize: number,
  ) {}

  setMismatches(m: MismatchRanges): void {
    this.mismatches = m;
  }

  async pageMap(block: string, onProgress?: (message: string) => void): Promise<PageMapInfo> {
    const base = await this.usage.buildPageMap(block, (done, total) =>
      onProgress?.(`page map: ${done} of ${total} writes`),
    );
    const states = new Uint8Array(base);
    const ps = this.pageSize;
    for (const r of this.mismatches.get(block) ?? [])
      for (let p = Math.floor(r.start / ps); p < Math.ceil(r.end / ps) && p < states.length; p++)
        states[p] = PageState.Mismatch;
    const counts = PAGE_STATES.map(() => 0);
    for (let i = 0; i < states.length; i++) counts[states[i]]++;
    return { block, pageSize: ps, states, counts, compared: this.mismatches.size > 0 };
  }

  async pageWriters(block: string | undefined, offset: number): Promise<PageWriterInfo[]> {
    const writers = await this.usage.findPageWriters(block, offset);
    return writers.map((w) => describeWrite(w));
  }
}

export function describeWrite(w: PageWrite & { block: string }): PageWriterInfo {
  const what =
    w.kind === 'zero'
      ? 'zero page'
      : w.kind === 'normal'
        ? 'data'
        : w.kind === 'main-zero' || w.kind === 'preempt-zero'
          ? 'ZERO record'
          : 'PAGE record';
  if (w.packet !== undefined) {
    return {
      block: w.block,
      ref: { stream: w.stream, index: w.packet },
      kind: w.kind,
      epoch: w.epoch,
      packetNum: w.packetNum,
      label: `${what} in ${w.block}: stream ${w.stream} (channel ${w.channel ?? '?'}) packet ${w.packet}, packet_num ${w.packetNum}, epoch ${w.epoch}`,
    };
  }
  if (w.kind === 'mapped-ram')
    return {
      block: w.block,
      kind: w.kind,
      epoch: w.epoch,
      label: `page in ${w.block} from the mapped-ram image (its bitmap bit set), read in place: replay window ${w.record}`,
    };
  // A preempt-channel record is no row of the main channel's: named, not linked.
  if (w.kind === 'preempt-page' || w.kind === 'preempt-zero')
    return {
      block: w.block,
      kind: w.kind,
      epoch: w.epoch,
      label: `${what} in ${w.block}: postcopy preempt channel (stream ${w.stream}) RAM record ${w.record}, after the switch`,
    };
  return {
    block: w.block,
    record: w.record,
    kind: w.kind,
    epoch: w.epoch,
    label: `${what} in ${w.block}: main channel (stream ${w.stream}) RAM record ${w.record}, epoch ${w.epoch}`,
  };
}
