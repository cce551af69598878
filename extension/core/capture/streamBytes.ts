import type { ByteSource } from './fileAccessor';
import { floorIndex } from '../util/growableArrays';
import { ReadAhead } from './readAhead';
import { CaptureEndedError } from './captureEnded';

/**
 * The bytes of one direction of one captured connection, reassembled lazily from DATA records.
 * Reading [a, b) finds the first record by binary search over the record list, then reads the file ranges
 * with positional reads. Nothing of the stream is held in memory.
 */
export class StreamBytes {
  /** streamStart[i]: stream offset of segment i; filePos[i]: where it lives in the file. */
  constructor(
    private readonly source: ByteSource,
    private readonly streamStart: Float64Array,
    private readonly filePos: Float64Array,
    private readonly timestamps: Float64Array,
    readonly length: number,
  ) {}

  static empty(source: ByteSource): StreamBytes {
    return new StreamBytes(source, new Float64Array(0), new Float64Array(0), new Float64Array(0), 0);
  }

  /** A whole file (or a part of it) as one stream: raw channel dumps. */
  static contiguous(source: ByteSource, fileStart: number, length: number): StreamBytes {
    return new StreamBytes(source, Float64Array.of(0), Float64Array.of(fileStart), Float64Array.of(0), length);
  }

  get segmentCount(): number {
    return this.streamStart.length;
  }

  private segmentEnd(i: number): number {
    return i + 1 < this.streamStart.length ? this.streamStart[i + 1] : this.length;
  }

  /**
   * Bytes [a, b) of the stream, clipped to its length. Every byte the index counts must be there: a capture
   * that shrank since it was indexed throws CaptureEndedError naming the stream offset where it ended.
   */
  async read(a: number, b: number): Promise<Uint8Array> {
    a = Math.max(0, a);
    b = Math.min(this.length, b);
    if (b <= a) return new Uint8Array(0);
    let i = floorIndex(this.streamStart, this.streamStart.length, a);
    if (b <= this.segmentEnd(i)) return this.segment(i, a, b);
    const out = new Uint8Array(b - a);
    let pos = a;
    while (pos < b) {
      const end = Math.min(b, this.segmentEnd(i));
      out.set(await this.segment(i, pos, end), pos - a);
      pos = end;
      i++;
    }
    return out;
  }

  /** Stream bytes [a, b) from segment i, all of them or CaptureEndedError. */
  private async segment(i: number, a: number, b: number): Promise<Uint8Array> {
    const at = this.filePos[i] + (a - this.streamStart[i]);
    let chunk: Uint8Array;
    try {
      chunk = await this.source.read(at, b - a);
    } catch (e) {
      if (!(e instanceof CaptureEndedError)) throw e;
      throw this.ended(a + (e.fileOffset - at), e.fileOffset, e.message);
    }
    if (chunk.length < b - a)
      throw this.ended(
        a + chunk.length,
        at + chunk.length,
        `the source has ${chunk.length} of the ${b - a} bytes at file offset ${at}`,
      );
    return chunk;
  }

  private ended(streamOffset: number, fileOffset: number, why: string): CaptureEndedError {
    return new CaptureEndedError(
      `the capture ended at stream offset ${streamOffset} (file offset ${fileOffset}), before the ${this.length} bytes indexed: ${why}`,
      fileOffset,
      streamOffset,
    );
  }

  /** The capture-file offset that holds stream offset `pos`. */
  fileOffsetOf(pos: number): number {
    if (this.streamStart.length === 0) return -1;
    const i = floorIndex(this.streamStart, this.streamStart.length, Math.min(pos, Math.max(0, this.length - 1)));
    return this.filePos[i] + (pos - this.streamStart[i]);
  }

  /** Capture timestamp (ns) of the DATA record that carried stream offset `pos`. */
  timestampOf(pos: number): number {
    if (this.timestamps.length === 0) return 0;
    const i = floorIndex(this.streamStart, this.streamStart.length, Math.min(pos, Math.max(0, this.length - 1)));
    return this.timestamps[Math.max(0, i)];
  }
}

/** Walks a stream front to back through a read-ahead window, for indexers that read headers. */
export function streamCursor(stream: StreamBytes, window?: number): ReadAhead {
  return new ReadAhead({ read: (p, n) => stream.read(p, p + n) }, window);
}
