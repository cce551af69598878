/**
 * Append-only typed-array columns. Indexes of hundreds of thousands of packets or records are kept
 * as columns of numbers rather than objects, so their memory stays a few bytes per row.
 */
type TypedArray = Float64Array | Uint32Array | Int32Array | Uint16Array | Uint8Array;
type Ctor<T extends TypedArray> = { new (n: number): T };

export class Column<T extends TypedArray> {
  private data: T;
  private n = 0;
  constructor(
    private readonly ctor: Ctor<T>,
    initial = 64,
  ) {
    this.data = new ctor(initial);
  }
  get length(): number {
    return this.n;
  }
  push(v: number): void {
    if (this.n === this.data.length) {
      const next = new this.ctor(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.n++] = v;
  }
  get(i: number): number {
    return this.data[i];
  }
  set(i: number, v: number): void {
    this.data[i] = v;
  }
  /** A view of the used part (shares memory). */
  view(): T {
    return this.data.subarray(0, this.n) as T;
  }
}

/** Interns strings (ramblock names, idstrs) so each row stores a small integer. */
export class StringTable {
  private readonly ids = new Map<string, number>();
  readonly values: string[] = [];
  intern(s: string): number {
    let id = this.ids.get(s);
    if (id === undefined) {
      id = this.values.length;
      this.values.push(s);
      this.ids.set(s, id);
    }
    return id;
  }
  get(id: number): string {
    return this.values[id];
  }
}

/** Index of the last element <= x in a sorted column (binary search); -1 if none. */
export function floorIndex(sorted: ArrayLike<number>, length: number, x: number): number {
  let lo = 0;
  let hi = length - 1;
  let ans = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] <= x) {
      ans = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return ans;
}
