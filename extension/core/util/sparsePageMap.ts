import { PageHash } from './pageHash';

/**
 * page index → int32, in memory proportional to the pages set, whatever their spread: scattered pages live in a
 * hash (about 25 bytes each); a region of `chunkPages` pages moves to a dense Int32Array (4 bytes a page) once it
 * holds enough pages for that to be cheaper. So one page every 16 MiB of a 15 TiB block costs 25 bytes a page,
 * not a 16 KiB region each, and a densely written guest stays at 4 bytes a page.
 * `maxChunks × chunkPages × 4` bytes is a budget (give or take one growth step): `set` returns false (and `capped`
 * turns true) beyond it.
 */
export class SparsePageMap {
  private readonly chunks = new Map<number, Int32Array>();
  /** Pages not in a dense region. */
  private readonly scattered = new PageHash();
  /** region → how many of its pages are scattered. */
  private readonly perRegion = new PageHash();
  private readonly promoteAt: number;
  private readonly budget: number;
  capped = false;
  // Page writes come in runs within one region: remembering the last one skips most Map look-ups.
  private lastKey = -1;
  private last: Int32Array | undefined;

  constructor(
    private readonly empty = -1,
    maxChunks = 4096,
    private readonly chunkPages = 4096,
  ) {
    this.budget = maxChunks * chunkPages * 4;
    // A scattered page costs ~25-35 bytes, a dense region 4 × chunkPages: switch where the two meet.
    this.promoteAt = Math.max(1, Math.floor(chunkPages / 8));
  }

  private chunk(key: number): Int32Array | undefined {
    if (key !== this.lastKey) {
      this.last = this.chunks.get(key);
      this.lastKey = key;
    }
    return this.last;
  }

  get(page: number): number {
    const c = this.chunk(Math.floor(page / this.chunkPages));
    return c ? c[page % this.chunkPages] : this.scattered.get(page, this.empty);
  }

  set(page: number, value: number): boolean {
    const key = Math.floor(page / this.chunkPages);
    const c = this.chunk(key);
    if (c) {
      c[page % this.chunkPages] = value;
      return true;
    }
    if (!this.scattered.set(page, value)) return true; // an update
    if (this.bytes > this.budget) {
      this.scattered.delete(page);
      this.capped = true;
      return false;
    }
    const n = this.perRegion.get(key, 0) + 1;
    if (n >= this.promoteAt && this.bytes + this.chunkPages * 4 <= this.budget) this.promote(key);
    else this.perRegion.set(key, n);
    return true;
  }

  /** Moves a region's scattered pages into a dense array of its own. */
  private promote(key: number): void {
    const dense = new Int32Array(this.chunkPages).fill(this.empty);
    const base = key * this.chunkPages;
    for (let i = 0; i < this.chunkPages; i++) {
      const v = this.scattered.get(base + i, NaN);
      if (Number.isNaN(v)) continue;
      dense[i] = v;
      this.scattered.delete(base + i);
    }
    this.perRegion.delete(key);
    this.chunks.set(key, dense);
    this.lastKey = key;
    this.last = dense;
  }

  /** Calls fn for every set page below `limit`: only pages set are visited (a huge, empty range costs nothing). */
  forEachSet(limit: number, fn: (page: number, value: number) => void): void {
    for (const [key, c] of this.chunks) {
      const base = key * this.chunkPages;
      for (let i = 0; i < c.length && base + i < limit; i++) if (c[i] !== this.empty) fn(base + i, c[i]);
    }
    this.scattered.forEach((page, v) => {
      if (page < limit && v !== this.empty) fn(page, v);
    });
  }

  /** Memory held, in bytes. */
  get bytes(): number {
    return this.chunks.size * this.chunkPages * 4 + this.scattered.bytes + this.perRegion.bytes;
  }
}
