/**
 * Serves many small reads that mostly move forward (record and packet headers) from one larger positional
 * read, so walking a capture costs one system call per window rather than one per header.
 */
export class ReadAhead {
  private buf: Uint8Array = new Uint8Array(0);
  private start = 0;

  constructor(private readonly source: { read(position: number, length: number): Promise<Uint8Array> }, private readonly window = 1 << 20) {}

  /** Up to `n` bytes at `pos` (fewer at end of source). The view is valid until the next call. */
  async bytes(pos: number, n: number): Promise<Uint8Array> {
    if (pos >= this.start && pos + n <= this.start + this.buf.length) {
      return this.buf.subarray(pos - this.start, pos - this.start + n);
    }
    if (n > this.window) return this.source.read(pos, n);
    this.buf = await this.source.read(pos, this.window);
    this.start = pos;
    return this.buf.subarray(0, Math.min(n, this.buf.length));
  }
}
