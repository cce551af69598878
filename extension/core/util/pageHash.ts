/**
 * integer key (0 ≤ key < 2^53) → int32, open addressing with linear probing over typed arrays: about 12 bytes
 * a slot, at most 70 % full, so 17–34 bytes an entry whatever the keys' spread. No objects per entry.
 */
export class PageHash {
  private static readonly EMPTY = -1;
  private static readonly DELETED = -2;
  private keys: Float64Array;
  private values: Int32Array;
  private used = 0; // live entries plus tombstones
  private live = 0;

  constructor(initialCapacity = 16) {
    let cap = 16;
    while (cap < initialCapacity) cap *= 2;
    this.keys = new Float64Array(cap).fill(PageHash.EMPTY);
    this.values = new Int32Array(cap);
  }

  get size(): number {
    return this.live;
  }

  get bytes(): number {
    return this.keys.byteLength + this.values.byteLength;
  }

  private slot(key: number): number {
    const mask = this.keys.length - 1;
    // Mix both 32-bit halves: page indexes of one block differ in their low bits, those of strided pages in any.
    let h = Math.imul((key >>> 0) ^ Math.imul(Math.floor(key / 4294967296), 0x85ebca6b), 0x9e3779b1);
    h ^= h >>> 15;
    let i = h & mask;
    for (;;) {
      const k = this.keys[i];
      if (k === key || k === PageHash.EMPTY) return i;
      i = (i + 1) & mask;
    }
  }

  /** The value for key, or `missing`. */
  get(key: number, missing: number): number {
    const i = this.slot(key);
    return this.keys[i] === key ? this.values[i] : missing;
  }

  /** Sets key → value; returns true when the key is new. */
  set(key: number, value: number): boolean {
    let i = this.slot(key);
    if (this.keys[i] === key) {
      this.values[i] = value;
      return false;
    }
    if ((this.used + 1) * 10 > this.keys.length * 7) {
      this.rehash(this.live + 1 > (this.keys.length * 7) / 20 ? this.keys.length * 2 : this.keys.length);
      i = this.slot(key);
    }
    this.keys[i] = key;
    this.values[i] = value;
    this.used++;
    this.live++;
    return true;
  }

  /** Removes key (a tombstone keeps probe chains intact until the next rehash). */
  delete(key: number): void {
    const i = this.slot(key);
    if (this.keys[i] !== key) return;
    this.keys[i] = PageHash.DELETED;
    this.live--;
  }

  forEach(fn: (key: number, value: number) => void): void {
    for (let i = 0; i < this.keys.length; i++) if (this.keys[i] >= 0) fn(this.keys[i], this.values[i]);
  }

  private rehash(capacity: number): void {
    const { keys, values } = this;
    this.keys = new Float64Array(capacity).fill(PageHash.EMPTY);
    this.values = new Int32Array(capacity);
    this.used = 0;
    this.live = 0;
    for (let i = 0; i < keys.length; i++) {
      if (keys[i] < 0) continue;
      const j = this.slot(keys[i]);
      this.keys[j] = keys[i];
      this.values[j] = values[i];
      this.used++;
      this.live++;
    }
  }
}
