/**
 * Append-only columns for tables of hundreds of millions of rows (a legacy capture of a large guest has one
 * main-channel record per page): fixed-size chunks (no doubling of the whole table, no copy of it on growth),
 * and encodings that cost a few bytes a row or less where the values allow it.
 */
type TypedArray = Float64Array | Uint32Array | Int32Array | Uint16Array | Uint8Array;
type Ctor<T extends TypedArray> = { new (n: number): T };

const CHUNK_BITS = 13;
const CHUNK = 1 << CHUNK_BITS;
const CHUNK_MASK = CHUNK - 1;

/** Values in chunks of 8 Ki rows; the last chunk grows by doubling, so slack stays under 8 Ki rows. */
export class ChunkedColumn<T extends TypedArray> {
  private readonly chunks: T[] = [];
  private n = 0;
  constructor(private readonly ctor: Ctor<T>) {}
  get length(): number {
    return this.n;
  }
  push(v: number): void {
    const c = this.n >>> CHUNK_BITS;
    const j = this.n & CHUNK_MASK;
    if (c === this.chunks.length) this.chunks.push(new this.ctor(64));
    else if (j === this.chunks[c].length) {
      const grown = new this.ctor(Math.min(CHUNK, j * 2));
      grown.set(this.chunks[c]);
      this.chunks[c] = grown;
    }
    this.chunks[c][j] = v;
    this.n++;
  }
  get(i: number): number {
    return this.chunks[i >>> CHUNK_BITS][i & CHUNK_MASK];
  }
  set(i: number, v: number): void {
    this.chunks[i >>> CHUNK_BITS][i & CHUNK_MASK] = v;
  }
  get bytes(): number {
    let n = 0;
    for (const c of this.chunks) n += c.byteLength;
    return n;
  }
  /** A copy of the values as one array (tests, small tables). */
  view(): T {
    const out = new this.ctor(this.n);
    for (let i = 0; i < this.n; i++) out[i] = this.get(i);
    return out;
  }
}

/** Values that come in runs (a record's block, epoch, section): one entry per run, found by binary search. */
export class RunColumn {
  private readonly starts = new ChunkedColumn(Float64Array);
  private readonly values = new ChunkedColumn(Float64Array);
  private n = 0;
  private cached = 0; // run of the last look-up: reads are mostly in order
  get length(): number {
    return this.n;
  }
  push(v: number): void {
    const runs = this.values.length;
    if (runs === 0 || this.values.get(runs - 1) !== v) {
      this.starts.push(this.n);
      this.values.push(v);
    }
    this.n++;
  }
  get(i: number): number {
    return this.values.get(this.run(i));
  }
  get bytes(): number {
    return this.starts.bytes + this.values.bytes;
  }
  private run(i: number): number {
    const runs = this.starts.length;
    const c = this.cached;
    if (c < runs && this.starts.get(c) <= i && (c + 1 === runs || this.starts.get(c + 1) > i)) return c;
    if (c + 1 < runs && this.starts.get(c + 1) <= i && (c + 2 === runs || this.starts.get(c + 2) > i))
      return (this.cached = c + 1);
    let lo = 0;
    let hi = runs - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.starts.get(mid) <= i) lo = mid;
      else hi = mid - 1;
    }
    return (this.cached = lo);
  }
  /** Replaces every value, from a function of the row (one pass). */
  rebuild(valueOf: (i: number) => number): RunColumn {
    const out = new RunColumn();
    for (let i = 0; i < this.n; i++) out.push(valueOf(i));
    return out;
  }
  view(): Float64Array {
    const out = new Float64Array(this.n);
    for (let i = 0; i < this.n; i++) out[i] = this.get(i);
    return out;
  }
}

const GROUP_BITS = 6;

/**
 * Numbers stored as a small delta from the first value of their group of 64 rows, in `unit`s (1 KiB for page
 * offsets, 1 byte for stream positions): 4 bytes a row. A value the delta cannot hold (not a multiple of the
 * unit, or too far from its group's first) is kept exactly on the side.
 */
export class DeltaColumn {
  private readonly base = new ChunkedColumn(Float64Array);
  private readonly delta: ChunkedColumn<Int32Array | Uint32Array>;
  private readonly exact = new Map<number, number>();
  private readonly min: number;
  private readonly sentinel: number;
  private n = 0;

  constructor(
    private readonly unit: number,
    signed: boolean,
  ) {
    this.delta = signed ? new ChunkedColumn(Int32Array) : new ChunkedColumn(Uint32Array);
    this.min = signed ? -(2 ** 31) : 0;
    this.sentinel = signed ? 2 ** 31 - 1 : 2 ** 32 - 1;
  }

  get length(): number {
    return this.n;
  }

  push(v: number): void {
    const i = this.n++;
    if ((i & ((1 << GROUP_BITS) - 1)) === 0) this.base.push(Math.floor(v / this.unit));
    const d = v / this.unit - this.base.get(i >>> GROUP_BITS);
    if (Number.isInteger(d) && d >= this.min && d < this.sentinel) this.delta.push(d);
    else {
      this.delta.push(this.sentinel);
      this.exact.set(i, v);
    }
  }

  get(i: number): number {
    const d = this.delta.get(i);
    return d === this.sentinel ? this.exact.get(i)! : (this.base.get(i >>> GROUP_BITS) + d) * this.unit;
  }

  get bytes(): number {
    return this.base.bytes + this.delta.bytes + this.exact.size * 40;
  }

  view(): Float64Array {
    const out = new Float64Array(this.n);
    for (let i = 0; i < this.n; i++) out[i] = this.get(i);
    return out;
  }
}

/**
 * Small non-negative integers (a packet's page counts and flags) in 1 or 2 bytes a row; a value beyond (a hostile
 * header's) is kept exactly on the side.
 */
export class NarrowColumn {
  private readonly values: ChunkedColumn<Uint8Array | Uint16Array>;
  private readonly wide = new Map<number, number>();
  private readonly sentinel: number;

  constructor(bytes: 1 | 2) {
    this.values = bytes === 1 ? new ChunkedColumn(Uint8Array) : new ChunkedColumn(Uint16Array);
    this.sentinel = bytes === 1 ? 0xff : 0xffff;
  }

  get length(): number {
    return this.values.length;
  }

  push(v: number): void {
    if (Number.isInteger(v) && v >= 0 && v < this.sentinel) this.values.push(v);
    else {
      this.wide.set(this.values.length, v);
      this.values.push(this.sentinel);
    }
  }

  get(i: number): number {
    const v = this.values.get(i);
    return v === this.sentinel ? this.wide.get(i)! : v;
  }

  get bytes(): number {
    return this.values.bytes + this.wide.size * 40;
  }

  view(): Float64Array {
    const out = new Float64Array(this.length);
    for (let i = 0; i < out.length; i++) out[i] = this.get(i);
    return out;
  }
}
