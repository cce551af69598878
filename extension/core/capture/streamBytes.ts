import type { ByteSource } from './fileAccessor';
import { floorIndex } from '../util/growableArrays';
import { ReadAhead } from './readAhead';
import { CaptureEndedError, StreamHoleError, type StreamHole } from './captureEnded';

/**
 * The bytes of one direction of one captured connection, reassembled lazily from DATA records.
 * Reading [a, b) finds the first record by binary search over the record list, then reads the file ranges
 * with positional reads. Nothing of the stream is held in memory.
 *
 * A stream may have holes (a pcap's dropped segments): offsets keep counting through them, a read that
 * touches one throws StreamHoleError, and readers that frame the stream ask holeIn() before they read.
 */
export class StreamBytes {
  /** Where each segment ends, when holes cut some short of the next one's start. */
  private readonly segmentEnds: Float64Array | undefined;
  private readonly holeList: readonly StreamHole[];

  /**
   * streamStart[i]: stream offset of segment i; filePos[i]: where it lives in the file. `holes`: sorted,
   * disjoint, between segments (a segment runs up to the next segment or the next hole, whichever is first).
   */
  constructor(
    private readonly source: ByteSource,
    private readonly streamStart: Float64Array,
    private readonly filePos: Float64Array,
    private readonly timestamps: Float64Array,
    readonly length: number,
    holes: readonly StreamHole[] = [],
  ) {
    this.holeList = holes.filter((h) => h.length > 0 && h.streamOffset < length);
    if (this.holeList.length === 0) return;
    const ends = new Float64Array(streamStart.length);
    let h = 0;
    for (let i = 0; i < streamStart.length; i++) {
      while (h < this.holeList.length && this.holeList[h].streamOffset < streamStart[i]) h++;
      const next = i + 1 < streamStart.length ? streamStart[i + 1] : length;
      ends[i] = h < this.holeList.length ? Math.min(next, this.holeList[h].streamOffset) : next;
    }
    this.segmentEnds = ends;
  }

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
    if (this.segmentEnds) return this.segmentEnds[i];
    return i + 1 < this.streamStart.length ? this.streamStart[i + 1] : this.length;
  }

  /** The stream's first `end` bytes (up to a hole, for a reader that cannot go past one). */
  prefix(end: number): StreamBytes {
    return new StreamBytes(
      this.source,
      this.streamStart,
      this.filePos,
      this.timestamps,
      Math.max(0, Math.min(end, this.length)),
      this.holeList,
    );
  }

  /** The holes, in stream order. */
  holes(): readonly StreamHole[] {
    return this.holeList;
  }

  /** The first hole that overlaps [a, b), if any. */
  holeIn(a: number, b: number): StreamHole | undefined {
    if (this.holeList.length === 0 || b <= a) return undefined;
    const h = this.holeList[this.firstHoleEndingAfter(a)];
    return h && h.streamOffset < b ? h : undefined;
  }

  /** Where the bytes that are there from `pos` on stop: the next hole's start, or the stream's end. */
  presentUntil(pos: number): number {
    const h = this.holeList[this.firstHoleEndingAfter(pos)];
    return h ? Math.max(pos, Math.min(h.streamOffset, this.length)) : this.length;
  }

  /** Index of the first hole that ends after `pos` (holes.length when none does). */
  private firstHoleEndingAfter(pos: number): number {
    const hs = this.holeList;
    let lo = 0;
    let hi = hs.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (hs[mid].streamOffset + hs[mid].length <= pos) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * Bytes [a, b) of the stream, clipped to its length. Every byte the index counts must be there: a capture
   * that shrank since it was indexed throws CaptureEndedError naming the stream offset where it ended, and
   * a range that touches a hole throws StreamHoleError.
   */
  async read(a: number, b: number): Promise<Uint8Array> {
    a = Math.max(0, a);
    b = Math.min(this.length, b);
    if (b <= a) return new Uint8Array(0);
    const hole = this.holeIn(a, b);
    if (hole) throw new StreamHoleError(hole, a, b);
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
    if (i < 0) return this.filePos[0];
    // In a hole: where the bytes before it end in the file.
    return this.filePos[i] + (Math.min(pos, this.segmentEnd(i)) - this.streamStart[i]);
  }

  /** Each segment's stream offset, the bytes present in it (holes excluded) and its timestamp, in stream order. */
  forEachSegment(fn: (streamOffset: number, length: number, timestampNs: number) => void): void {
    for (let i = 0; i < this.streamStart.length; i++) {
      const start = this.streamStart[i];
      const end = Math.min(this.segmentEnd(i), this.length);
      if (end > start) fn(start, end - start, this.timestamps[i] ?? 0);
    }
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
  // Reads stop short at a hole, as they do at the end: the indexer asks holeIn() to tell the two apart.
  return new ReadAhead({ read: (p, n) => stream.read(p, Math.min(p + n, stream.presentUntil(p))) }, window);
}
