import type { ReadAhead } from '../capture/readAhead';
import { be16, be32, be64, latin1 } from '../util/bytes';

/** Thrown inside the decoder when the stream ends before a field; caught and turned into `main.truncated`. */
export class StreamEnded extends Error {
  constructor(
    readonly at: number,
    readonly wanted: number,
  ) {
    super(`stream ends at ${at} inside a field of ${wanted} bytes`);
  }
}

/** How much is taken from the read-ahead window at a time: small reads are then served synchronously. */
const VIEW = 64 * 1024;

/**
 * A forward cursor over a stream. Fields are read from a view of the read-ahead window, so the common case
 * (the bytes are already there) costs no await. Lengths are checked against the stream length before
 * anything is read, so a hostile length can never cause a large read or allocation.
 */
export class StreamWalker {
  pos = 0;
  private view: Uint8Array = new Uint8Array(0);
  private viewStart = 0;

  constructor(
    private readonly ahead: ReadAhead,
    readonly length: number,
  ) {}

  get remaining(): number {
    return this.length - this.pos;
  }

  private covered(n: number): boolean {
    return this.pos >= this.viewStart && this.pos + n <= this.viewStart + this.view.length;
  }

  /** Makes [pos, pos + n) readable; throws StreamEnded if the stream is shorter. n must be small (< VIEW). */
  async need(n: number): Promise<void> {
    if (this.covered(n)) return;
    if (this.pos + n > this.length) throw new StreamEnded(this.length, n);
    const want = Math.min(Math.max(n, VIEW), this.length - this.pos);
    this.view = await this.ahead.bytes(this.pos, want);
    this.viewStart = this.pos;
    if (this.view.length < n) throw new StreamEnded(this.pos + this.view.length, n);
  }

  /**
   * Makes up to n bytes at pos readable by the synchronous readers (fewer at the end of the stream). Hot
   * loops call this once per record and then read fields without awaiting.
   */
  async fill(n: number): Promise<void> {
    const k = Math.min(n, this.length - this.pos);
    if (k > 0 && !this.covered(k)) await this.need(k);
  }

  /** Whether n bytes at pos can be read synchronously. */
  ready(n: number): boolean {
    return this.covered(n);
  }

  private check(n: number): number {
    if (!this.covered(n)) throw new StreamEnded(Math.min(this.length, this.viewStart + this.view.length), n);
    return this.pos - this.viewStart;
  }

  /** Synchronous readers: only for bytes made ready by fill(); anything else is a truncation. */
  u8Sync(): number {
    const a = this.check(1);
    this.pos++;
    return this.view[a];
  }

  be16Sync(): number {
    const a = this.check(2);
    this.pos += 2;
    return be16(this.view, a);
  }

  be32Sync(): number {
    const a = this.check(4);
    this.pos += 4;
    return be32(this.view, a);
  }

  name8Sync(): string {
    const len = this.u8Sync();
    const a = this.check(len);
    this.pos += len;
    return latin1(this.view.subarray(a, a + len));
  }

  /** Whether n more bytes exist, without reading them. */
  has(n: number): boolean {
    return this.pos + n <= this.length;
  }

  private at(): number {
    return this.pos - this.viewStart;
  }

  async u8(): Promise<number> {
    if (!this.covered(1)) await this.need(1);
    return this.view[this.pos++ - this.viewStart];
  }

  async peek8(): Promise<number | undefined> {
    if (!this.has(1)) return undefined;
    if (!this.covered(1)) await this.need(1);
    return this.view[this.at()];
  }

  async be16(): Promise<number> {
    if (!this.covered(2)) await this.need(2);
    const v = be16(this.view, this.at());
    this.pos += 2;
    return v;
  }

  async be32(): Promise<number> {
    if (!this.covered(4)) await this.need(4);
    const v = be32(this.view, this.at());
    this.pos += 4;
    return v;
  }

  /** A u64 as a number (exact below 2^53; larger values only ever fail range checks). */
  async be64(): Promise<number> {
    if (!this.covered(8)) await this.need(8);
    const v = be64(this.view, this.at());
    this.pos += 8;
    return v;
  }

  /** Peeks a u64 without moving; undefined at end of stream. */
  async peek64(): Promise<number | undefined> {
    if (!this.has(8)) return undefined;
    if (!this.covered(8)) await this.need(8);
    return be64(this.view, this.at());
  }

  /** n bytes (n ≤ 255 for names, or a small fixed size): a copy, safe to keep. */
  async bytes(n: number): Promise<Uint8Array> {
    if (!this.covered(n)) await this.need(n);
    const b = this.view.slice(this.at(), this.at() + n);
    this.pos += n;
    return b;
  }

  /** u8 length + that many bytes: QEMU's idstr encoding. */
  async name8(): Promise<string> {
    const len = await this.u8();
    return latin1(await this.bytes(len));
  }

  /** Moves past n bytes without reading them (page data); throws StreamEnded if they are not all there. */
  skip(n: number): void {
    if (this.pos + n > this.length) throw new StreamEnded(this.length, n);
    this.pos += n;
  }

  /** Jumps to an absolute position (mapped-ram); the caller has checked it. */
  seek(pos: number): void {
    this.pos = pos;
  }
}
