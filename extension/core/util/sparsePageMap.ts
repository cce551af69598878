/**
 * page index → int32, allocated in chunks only where pages are touched, with a cap on chunks so hostile
 * offsets (anywhere in 2^64) cannot make it grow without bound. `set` returns false once the cap is hit.
 */
export class SparsePageMap {
  private readonly chunks = new Map<number, Int32Array>();
  capped = false;
  // Page writes come in runs within one chunk: remembering the last chunk skips most Map look-ups.
  private lastKey = -1;
  private last: Int32Array | undefined;

  constructor(private readonly empty = -1, private readonly maxChunks = 4096, private readonly chunkPages = 4096) {}

  private chunk(key: number): Int32Array | undefined {
    if (key !== this.lastKey) {
      this.last = this.chunks.get(key);
      this.lastKey = key;
    }
    return this.last;
  }

  get(page: number): number {
    const c = this.chunk(Math.floor(page / this.chunkPages));
    return c ? c[page % this.chunkPages] : this.empty;
  }

  set(page: number, value: number): boolean {
    const key = Math.floor(page / this.chunkPages);
    let c = this.chunk(key);
    if (!c) {
      if (this.chunks.size >= this.maxChunks) {
        this.capped = true;
        return false;
      }
      c = new Int32Array(this.chunkPages).fill(this.empty);
      this.chunks.set(key, c);
      this.last = c;
      this.lastKey = key;
    }
    c[page % this.chunkPages] = value;
    return true;
  }

  /** Calls fn for every set page below `limit`, visiting allocated chunks only (a huge, empty range costs nothing). */
  forEachSet(limit: number, fn: (page: number, value: number) => void): void {
    for (const [key, c] of this.chunks) {
      const base = key * this.chunkPages;
      for (let i = 0; i < c.length && base + i < limit; i++) if (c[i] !== this.empty) fn(base + i, c[i]);
    }
  }

  /** Memory held, in bytes. */
  get bytes(): number {
    return this.chunks.size * this.chunkPages * 4;
  }
}
