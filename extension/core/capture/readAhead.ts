/**
 * Serves many small reads that mostly move forward (record and packet headers) from fewer, larger positional
 * reads. The window adapts: it doubles while requests keep landing in or just after it (back-to-back headers),
 * and falls back to a small read when a request skips far ahead (a header after a large payload), so walking
 * a capture reads little more than its headers.
 */
export class ReadAhead {
  private buf: Uint8Array = new Uint8Array(0);
  private start = 0;
  private window: number;

  constructor(
    private readonly source: { read(position: number, length: number): Promise<Uint8Array> },
    private readonly maxWindow = 1 << 20,
    private readonly minWindow = 16 << 10,
  ) {
    this.window = minWindow;
  }

  /** Up to `n` bytes at `pos` (fewer at end of source). The view is valid until the next call. */
  async bytes(pos: number, n: number): Promise<Uint8Array> {
    const end = this.start + this.buf.length;
    if (pos >= this.start && pos + n <= end) return this.buf.subarray(pos - this.start, pos - this.start + n);
    const nearby = pos >= this.start && pos < end + this.window;
    this.window = nearby ? Math.min(this.maxWindow, this.window * 2) : this.minWindow;
    if (n > this.window) return this.source.read(pos, n);
    this.buf = await this.source.read(pos, this.window);
    this.start = pos;
    return this.buf.subarray(0, Math.min(n, this.buf.length));
  }
}
