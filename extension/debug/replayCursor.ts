import { recordOfStep } from '../core/replay/stepRecord';
import { sourceBytes, type CaptureAnalysis } from '../core/analysisTypes';
import type { Diagnostic, DiagnosticSink } from '../core/diagnostics/diagnostic';
import { MainRecordKind } from '../core/mainchannel/mainChannelIndex';
import { headerReader, readPacketPages } from '../core/multifd/packetPages';
import type { ReplayEngine, StepResult } from '../core/replay/replayEngine';
import { WriterKind } from '../core/replay/schedule';
import { windowPages } from '../core/capture/mappedRam/mappedRamIndex';
import { isAllZero } from '../core/util/bytes';

/**
 * A page image kept for stepping back and forth: the bytes, or (for the common all-zero page) just their
 * count. Short or empty when the page lies beyond its image (the engine skips such pages).
 */
type Snapshot = Uint8Array | number;

function snapshotBytes(s: Snapshot): number {
  return typeof s === 'number' ? 0 : s.length;
}

interface PageSnapshots {
  pre: Snapshot;
  post: Snapshot;
}

/** One schedule entry as the cursor applied it: what the engine reported, plus undo/redo page images. */
export interface CursorEntry extends StepResult {
  /** Diagnostics the engine raised while applying this entry (decompression errors, skipped pages). */
  raised: Diagnostic[];
  /** Per page (normal pages in offset[] order, then zero pages): contents before and after the entry. */
  pages?: PageSnapshots[];
  bytes: number;
}

/** Where the view stands: entries before `entry` fully applied, and the first `pages` pages of `entry`. */
export interface CursorPosition {
  entry: number;
  pages: number;
}

export interface PageRef {
  block: string;
  offset: number;
  zero: boolean;
}

export function pageOf(e: Pick<CursorEntry, 'block' | 'normalOffsets' | 'zeroOffsets'>, p: number): PageRef {
  const n = e.normalOffsets.length;
  return p < n
    ? { block: e.block, offset: e.normalOffsets[p], zero: false }
    : { block: e.block, offset: e.zeroOffsets[p - n], zero: true };
}

export function pageCountOf(e: Pick<CursorEntry, 'normalOffsets' | 'zeroOffsets'>): number {
  return e.normalOffsets.length + e.zeroOffsets.length;
}

export interface ReplayCursorOptions {
  /** Bytes of page images kept for stepping back (oldest dropped first). Default 128 MiB. */
  maxUndoBytes?: number;
}

/**
 * Page-level stepping over the replay engine, exact in both directions.
 *
 * The engine applies one whole schedule entry at a time and only forwards. The cursor reads the pages an
 * entry will touch before and after the engine applies it, and keeps both images: writing the "before"
 * images back shows RAM part-way through a packet (step in) or before it (step back); writing the "after"
 * images redoes it without decoding again (zlib and zstd streams cannot be rewound). The block images always
 * hold exactly the RAM of the current position, so `read` is the engine's read. When the view is back at the
 * engine's frontier, the images equal what the engine made, so stepping on to the end rebuilds the same RAM
 * as `replayCapture`.
 *
 * The undo log is bounded: past `maxUndoBytes`, the oldest entries' images are dropped and stepping back
 * stops there (`oldestReachable`). Within a packet that lists one offset twice (never sent by QEMU), the
 * page-by-page view shows the packet's final contents for that offset; entry boundaries stay exact.
 */
export class ReplayCursor {
  private readonly entries: CursorEntry[] = [];
  private pos: CursorPosition = { entry: -1, pages: 0 };
  /** Entries below this index have lost their page images. */
  private oldestKept = 0;
  private logBytes = 0;
  private readonly maxUndoBytes: number;

  constructor(
    readonly engine: ReplayEngine,
    private readonly sink: DiagnosticSink,
    options: ReplayCursorOptions = {},
  ) {
    this.maxUndoBytes = options.maxUndoBytes ?? 128 << 20;
  }

  get analysis(): CaptureAnalysis {
    return this.engine.analysis;
  }

  get length(): number {
    return this.engine.length;
  }

  get position(): CursorPosition {
    return { ...this.pos };
  }

  /** The schedule entries the engine has applied so far (the view may be behind). */
  get frontier(): number {
    return this.entries.length;
  }

  get atStart(): boolean {
    return this.pos.entry < 0 || (this.pos.entry === 0 && this.pos.pages === 0);
  }

  /** True when every entry is applied in full. */
  get atEnd(): boolean {
    return (
      this.length === 0 ||
      (this.pos.entry === this.length - 1 && this.pos.pages === pageCountOf(this.entries[this.pos.entry]))
    );
  }

  /** The earliest position stepping back can reach, given the undo log's bound. */
  get oldestReachable(): CursorPosition {
    if (this.oldestKept === 0) return { entry: -1, pages: 0 };
    const e = this.oldestKept - 1;
    return { entry: e, pages: pageCountOf(this.entries[e]) };
  }

  entry(i: number): CursorEntry | undefined {
    return this.entries[i];
  }

  /** The entry the view stands in (undefined at the start). */
  get current(): CursorEntry | undefined {
    return this.pos.entry >= 0 ? this.entries[this.pos.entry] : undefined;
  }

  get currentComplete(): boolean {
    const e = this.current;
    return !e || this.pos.pages === pageCountOf(e);
  }

  read(block: string, offset: number, length: number): Promise<Uint8Array> {
    return this.engine.read(block, offset, length);
  }

  /** The offsets entry `i` writes, read ahead of applying it (the same reading the engine does). */
  private async peekOffsets(i: number): Promise<{ block: string; normal: number[]; zero: number[] }> {
    const a = this.analysis;
    const s = a.schedule;
    if (s.kind[i] === WriterKind.Multifd) {
      const m = a.multifd[s.source[i]];
      const p = await readPacketPages(headerReader(sourceBytes(a, m.streamId)), m.packets, s.row[i], a.pageSize);
      return { block: p.block, normal: p.normalOffsets, zero: p.zeroOffsets };
    }
    if (s.kind[i] === WriterKind.MappedRam && a.mappedRam) {
      const w = windowPages(a.mappedRam, s.row[i]);
      return { block: w.block.name, normal: w.offsets, zero: [] };
    }
    const rec = recordOfStep(a, i);
    if (!rec) throw new Error(`replay step ${i + 1} is a RAM record, but the capture has no stream for it`);
    const r = rec.records.row(rec.row);
    const block = a.ramblocks[r.block]?.name ?? '';
    return r.kind === MainRecordKind.Zero
      ? { block, normal: [], zero: [r.offset] }
      : { block, normal: [r.offset], zero: [] };
  }

  private async snapshot(block: string, offset: number): Promise<Snapshot> {
    const b = await this.engine.read(block, offset, this.analysis.pageSize);
    return isAllZero(b) ? b.length : b;
  }

  private async restore(block: string, offset: number, s: Snapshot, other: Snapshot): Promise<void> {
    const img = this.engine.images.get(block);
    if (!img) return;
    const len = Math.max(typeof s === 'number' ? s : s.length, typeof other === 'number' ? other : other.length);
    const room = Math.max(0, Math.min(len, img.image.size - offset));
    if (room === 0) return;
    const bytes = new Uint8Array(room);
    if (typeof s !== 'number') bytes.set(s.subarray(0, room));
    await img.image.write(offset, bytes);
  }

  /** Has the engine apply entry `frontier`, keeping the images of the pages it touches. */
  private async load(): Promise<CursorEntry> {
    const i = this.entries.length;
    const { block, normal, zero } = await this.peekOffsets(i);
    const offsets = [...normal, ...zero];
    const pre: Snapshot[] = [];
    for (const o of offsets) pre.push(await this.snapshot(block, o));
    const before = this.sink.items.length;
    const r = await this.engine.step();
    if (!r || r.step !== i) throw new Error(`replay cursor out of step with the engine at entry ${i}`);
    const pages: PageSnapshots[] = [];
    let bytes = 64;
    for (let k = 0; k < offsets.length; k++) {
      const post = await this.snapshot(r.block, offsets[k]);
      pages.push({ pre: pre[k], post });
      bytes += 48 + snapshotBytes(pre[k]) + snapshotBytes(post);
    }
    const e: CursorEntry = {
      step: i,
      epoch: r.epoch,
      kind: r.kind,
      block: r.block,
      normalOffsets: r.normalOffsets,
      zeroOffsets: r.zeroOffsets,
      raised: this.sink.items.slice(before),
      pages,
      bytes,
    };
    this.entries.push(e);
    this.logBytes += bytes;
    return e;
  }

  /** Drops the oldest page images beyond the bound; never those the view may need to redo. */
  private trim(): void {
    while (this.logBytes > this.maxUndoBytes && this.oldestKept < this.pos.entry) {
      const e = this.entries[this.oldestKept++];
      this.logBytes -= e.bytes;
      e.pages = undefined;
      e.bytes = 0;
    }
  }

  private async applyPage(e: CursorEntry, p: number, forward: boolean): Promise<void> {
    const s = e.pages?.[p];
    if (!s) throw new Error(`the page images of replay step ${e.step + 1} were dropped`);
    const pg = pageOf(e, p);
    await this.restore(pg.block, pg.offset, forward ? s.post : s.pre, forward ? s.pre : s.post);
  }

  /** Applies the rest of the current entry, then all of the next one. Undefined at the end. */
  async forwardEntry(): Promise<CursorEntry | undefined> {
    const next = this.pos.entry + 1;
    if (next >= this.length) {
      await this.finishCurrent();
      return undefined;
    }
    await this.finishCurrent();
    let e: CursorEntry;
    if (next < this.entries.length) {
      e = this.entries[next];
      for (let p = 0; p < pageCountOf(e); p++) await this.applyPage(e, p, true);
    } else e = await this.load();
    this.pos = { entry: next, pages: pageCountOf(e) };
    this.trim();
    return e;
  }

  private async finishCurrent(): Promise<void> {
    const e = this.current;
    if (!e) return;
    const n = pageCountOf(e);
    for (let p = this.pos.pages; p < n; p++) await this.applyPage(e, p, true);
    this.pos.pages = n;
  }

  /** Applies one page: the next of the current entry, else the first of the next entry. */
  async forwardPage(): Promise<CursorEntry | undefined> {
    const e = this.current;
    if (e && this.pos.pages < pageCountOf(e)) {
      await this.applyPage(e, this.pos.pages, true);
      this.pos.pages++;
      return e;
    }
    const n = await this.forwardEntry();
    if (n && pageCountOf(n) > 1) await this.setPagesApplied(1);
    return n;
  }

  /** Within the current entry, shows exactly its first k pages as written. */
  async setPagesApplied(k: number): Promise<void> {
    const e = this.current;
    if (!e) return;
    const n = pageCountOf(e);
    k = Math.max(0, Math.min(n, k));
    if (k < this.pos.pages && !e.pages) throw new Error('the page images of this packet were dropped');
    for (let p = this.pos.pages - 1; p >= k; p--) await this.applyPage(e, p, false);
    for (let p = this.pos.pages; p < k; p++) await this.applyPage(e, p, true);
    this.pos.pages = k;
  }

  /** Whether the current entry can be undone (its page images are kept). */
  get canStepBack(): boolean {
    const e = this.current;
    return !!e && !!e.pages && this.pos.entry >= this.oldestKept;
  }

  /** Undoes the current entry (wholly, even when part-applied): the view ends after the previous entry. */
  async backwardEntry(): Promise<boolean> {
    if (!this.canStepBack) return false;
    await this.setPagesApplied(0);
    const prev = this.pos.entry - 1;
    this.pos = { entry: prev, pages: prev >= 0 ? pageCountOf(this.entries[prev]) : 0 };
    return true;
  }

  /** Undoes one page (the last written); undoing the first page of an entry leaves the previous entry's end. */
  async backwardPage(): Promise<boolean> {
    const e = this.current;
    if (!e) return false;
    if (this.pos.pages > 1) {
      if (!e.pages) return false;
      await this.setPagesApplied(this.pos.pages - 1);
      return true;
    }
    return this.backwardEntry();
  }
}
