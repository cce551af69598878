import { recordOfStep } from '../../core/replay/stepRecord';
import { sourceBytes, type CaptureAnalysis } from '../../core/analysisTypes';
import { MainRecordKind } from '../../core/mainchannel/mainChannelIndex';
import { headerReader, readPacketPages, type HeaderBytes } from '../../core/multifd/packetPages';
import { WriterKind } from '../../core/replay/schedule';
import { windowPages } from '../../core/capture/mappedRam/mappedRamIndex';
import { streamCursor, type StreamBytes } from '../../core/capture/streamBytes';
import type { ReadAhead } from '../../core/capture/readAhead';
import { PageState } from '../../shared/protocol';

/** One write of a page: a multifd packet's offset[] entry or a main-channel RAM record. */
export interface PageWrite {
  kind: 'normal' | 'zero' | 'main-page' | 'main-zero' | 'preempt-page' | 'preempt-zero' | 'mapped-ram';
  /** Capture stream id of the writer. */
  stream: number;
  /** Packet index (multifd) in its stream. */
  packet?: number;
  /** RAM record index (main channel). */
  record?: number;
  epoch: number;
  packetNum?: number;
  channel?: number;
  step: number;
}

export interface PageUsageSource {
  buildPageMap(block: string, onProgress?: (done: number, total: number) => void): Promise<Uint8Array>;
  findPageWriters(block: string | undefined, offset: number): Promise<(PageWrite & { block: string })[]>;
  /** Size of a block in pages, as far as known. */
  blockPages(block: string): number;
}

/** Per schedule step: the lowest and highest page offset written (to skip header reads when searching), and its block id. */
interface StepBounds {
  lo: Float64Array;
  hi: Float64Array;
  block: Int32Array;
}

/**
 * Which writes touched which page, walked in replay order over the analysis' schedule: the page map of a
 * ramblock and the writers of one page. The model takes any `PageUsageSource` (this one by default).
 */
export class SchedulePageUsage implements PageUsageSource {
  /** The one pass over every write, shared by whoever asks first (page map or page writers). */
  private scanning?: Promise<StepBounds>;
  private readonly maps = new Map<string, Uint8Array>();
  private readonly highest = new Map<string, number>();

  constructor(private readonly a: CaptureAnalysis) {}

  blockPages(block: string): number {
    const known = this.a.ramblocks.find((b) => b.name === block);
    if (known) return Math.ceil(known.usedLength / this.a.pageSize);
    const h = this.highest.get(block);
    return h === undefined ? 0 : Math.floor(h / this.a.pageSize) + 1;
  }

  private streamOf(source: number): StreamBytes {
    return sourceBytes(this.a, this.a.multifd[source].streamId);
  }

  private cursors = new Map<number, ReadAhead>();

  private async stepOffsets(
    step: number,
    sequential = false,
  ): Promise<{ block: string; normal: number[]; zero: number[] }> {
    const s = this.a.schedule;
    const row = s.row[step];
    if (s.kind[step] === WriterKind.Multifd) {
      const source = s.source[step];
      let read: HeaderBytes;
      if (sequential) {
        let c = this.cursors.get(source);
        if (!c) this.cursors.set(source, (c = streamCursor(this.streamOf(source))));
        const cursor = c;
        read = (o, n) => cursor.bytes(o, n);
      } else read = headerReader(this.streamOf(source));
      const { block, normalOffsets, zeroOffsets } = await readPacketPages(
        read,
        this.a.multifd[source].packets,
        row,
        this.a.pageSize,
      );
      return { block, normal: normalOffsets, zero: zeroOffsets };
    }
    if (s.kind[step] === WriterKind.MappedRam && this.a.mappedRam) {
      const w = windowPages(this.a.mappedRam, row);
      return { block: w.block.name, normal: w.offsets, zero: [] };
    }
    const rec = recordOfStep(this.a, step);
    if (!rec) throw new Error(`schedule step ${step} is a RAM record, but the capture has no stream for it`);
    const r = rec.records;
    const blockIndex = r.block.get(row);
    const block = this.a.ramblocks[blockIndex]?.name ?? '';
    const off = r.offset.get(row);
    return r.kind.get(row) === MainRecordKind.Zero
      ? { block, normal: [], zero: [off] }
      : { block, normal: [off], zero: [] };
  }

  private describe(step: number, zero: boolean): PageWrite {
    const s = this.a.schedule;
    const row = s.row[step];
    if (s.kind[step] === WriterKind.Multifd) {
      const m = this.a.multifd[s.source[step]];
      return {
        kind: zero ? 'zero' : 'normal',
        stream: m.streamId,
        packet: row,
        epoch: s.epoch[step],
        packetNum: m.packets.packetNum.get(row),
        channel: m.handshake?.channelId,
        step,
      };
    }
    // mapped-ram: record is the window of pages read in place from the image.
    if (s.kind[step] === WriterKind.MappedRam)
      return { kind: 'mapped-ram', stream: this.a.mappedRam?.streamId ?? -1, record: row, epoch: s.epoch[step], step };
    const rec = recordOfStep(this.a, step);
    const via = rec?.via === 'preempt' ? 'preempt' : 'main';
    return {
      kind: zero ? `${via}-zero` : `${via}-page`,
      stream: rec?.streamId ?? -1,
      record: row,
      epoch: s.epoch[step],
      step,
    };
  }

  private blockIds = new Map<string, number>();
  private blockId(name: string): number {
    let id = this.blockIds.get(name);
    if (id === undefined) this.blockIds.set(name, (id = this.blockIds.size));
    return id;
  }

  private scan(onProgress?: (done: number, total: number) => void): Promise<StepBounds> {
    this.scanning ??= this.scanAll(onProgress).catch((e: unknown) => {
      this.scanning = undefined;
      throw e;
    });
    return this.scanning;
  }

  /** One pass over every write: page maps of every block, and per-step bounds for later searches. */
  private async scanAll(onProgress?: (done: number, total: number) => void): Promise<StepBounds> {
    const s = this.a.schedule;
    const n = s.length;
    const lo = new Float64Array(n);
    const hi = new Float64Array(n);
    const block = new Int32Array(n);
    const ps = this.a.pageSize;
    const raw = new Map<string, Map<number, number>>();
    for (let i = 0; i < n; i++) {
      const w = await this.stepOffsets(i, true);
      block[i] = this.blockId(w.block);
      let l = Infinity;
      let h = -Infinity;
      let pages = raw.get(w.block);
      if (!pages) raw.set(w.block, (pages = new Map()));
      const m = pages;
      const note = (off: number, state: number) => {
        if (off < l) l = off;
        if (off > h) h = off;
        const page = Math.floor(off / ps);
        const prev = m.get(page);
        m.set(page, prev === undefined ? state : PageState.Resent);
      };
      for (const o of w.normal) note(o, PageState.Normal);
      for (const o of w.zero) note(o, PageState.Zero);
      lo[i] = l;
      hi[i] = h;
      if (h > (this.highest.get(w.block) ?? -1)) this.highest.set(w.block, h);
      if (onProgress && i % 2048 === 0) onProgress(i, n);
      if (i % 512 === 511) await new Promise((r) => setImmediate(r));
    }
    for (const [name, m] of raw) {
      const pages = this.blockPages(name);
      const out = new Uint8Array(pages);
      for (const [page, state] of m) if (page < pages) out[page] = state;
      this.maps.set(name, out);
    }
    this.cursors.clear();
    return { lo, hi, block };
  }

  async buildPageMap(block: string, onProgress?: (done: number, total: number) => void): Promise<Uint8Array> {
    await this.scan(onProgress);
    return this.maps.get(block) ?? new Uint8Array(this.blockPages(block));
  }

  async findPageWriters(block: string | undefined, offset: number): Promise<(PageWrite & { block: string })[]> {
    const { lo, hi, block: blocks } = await this.scan();
    const ps = this.a.pageSize;
    const page = Math.floor(offset / ps);
    const out: (PageWrite & { block: string })[] = [];
    const want = block === undefined ? -1 : this.blockIds.get(block);
    if (want === undefined) return out;
    for (let i = 0; i < this.a.schedule.length; i++) {
      if (want >= 0 && blocks[i] !== want) continue;
      if (Math.floor(lo[i] / ps) > page || Math.floor(hi[i] / ps) < page) continue;
      const w = await this.stepOffsets(i);
      const hitNormal = w.normal.some((o) => Math.floor(o / ps) === page);
      const hitZero = w.zero.some((o) => Math.floor(o / ps) === page);
      if (hitNormal || hitZero) out.push({ ...this.describe(i, !hitNormal && hitZero), block: w.block });
    }
    return out;
  }
}
