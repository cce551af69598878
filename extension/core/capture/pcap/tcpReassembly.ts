/**
 * TCP reassembly of one direction of one connection, by sequence number: out-of-order segments are put in
 * place, retransmissions keep the bytes seen first (and are checked against them later), sequence numbers
 * wrap at 2^32, and whatever no segment covers is a hole at an exact stream offset. Payloads stay in the
 * file: the result is a list of (stream offset, file offset, length) pieces.
 */

const TWO_32 = 2 ** 32;

export interface Piece {
  streamOffset: number;
  fileOffset: number;
  length: number;
  timeNs: number;
}

export interface Hole {
  streamOffset: number;
  length: number;
  /** Why the bytes are missing: a segment never captured, or a frame cut by the snaplen. */
  why: 'not captured' | 'cut by the snaplen';
}

/** Two captured copies of the same stream bytes (a retransmission), to compare once reassembly is done. */
export interface Overlap {
  streamOffset: number;
  length: number;
  firstFileOffset: number;
  laterFileOffset: number;
}

export interface ReassembledDirection {
  pieces: Piece[];
  holes: Hole[];
  overlaps: Overlap[];
  /** The stream's length: the end of the last byte any segment (or the FIN) accounts for. */
  length: number;
  /** The first sequence number came from a SYN (false: the capture started after the connection did). */
  sawSyn: boolean;
  finAt?: number;
}

interface Segment {
  rel: number;
  captured: number;
  wire: number;
  fileOffset: number;
  timeNs: number;
  order: number;
}

export class DirectionAssembler {
  private base: number | undefined;
  private sawSyn = false;
  /** The highest unwrapped sequence seen, which later 32-bit numbers are unwrapped against. */
  private highest = 0;
  private readonly segments: Segment[] = [];
  private finAt: number | undefined;

  /** Whether a SYN or a segment has set this direction's first sequence number. */
  get started(): boolean {
    return this.base !== undefined;
  }

  /** The SYN's sequence number: data starts one after it. */
  syn(seq: number): void {
    if (this.base !== undefined) return;
    this.base = (seq + 1) % TWO_32;
    this.sawSyn = true;
  }

  private unwrap(seq: number): number {
    if (this.base === undefined) this.base = seq;
    const rel32 = (seq - this.base + TWO_32) % TWO_32;
    // The candidate nearest the highest offset seen so far (segments are never 2 GiB apart).
    const k = Math.round((this.highest - rel32) / TWO_32);
    return rel32 + k * TWO_32;
  }

  segment(seq: number, captured: number, wire: number, fileOffset: number, timeNs: number): void {
    if (wire <= 0) return;
    const rel = this.unwrap(seq);
    if (rel < 0) return; // before the SYN: a stray, or a retransmitted SYN's data
    this.highest = Math.max(this.highest, rel + wire);
    this.segments.push({
      rel,
      captured: Math.min(captured, wire),
      wire,
      fileOffset,
      timeNs,
      order: this.segments.length,
    });
  }

  fin(seq: number, payload: number): void {
    const end = this.unwrap(seq) + payload;
    if (this.finAt === undefined) this.finAt = end;
    this.highest = Math.max(this.highest, end);
  }

  finish(): ReassembledDirection {
    const segs = this.segments.sort((a, b) => a.rel - b.rel || a.order - b.order);
    const pieces: Piece[] = [];
    const holes: Hole[] = [];
    const overlaps: Overlap[] = [];
    let covered = 0;
    const addHole = (from: number, to: number, why: Hole['why']): void => {
      if (to <= from) return;
      const last = holes[holes.length - 1];
      if (last && last.streamOffset + last.length === from && last.why === why) last.length += to - from;
      else holes.push({ streamOffset: from, length: to - from, why });
    };
    // Bytes the snaplen cut, pending: a later segment may still cover them.
    let cutUntil = 0;
    for (const s of segs) {
      const end = s.rel + s.captured;
      if (s.rel > covered) {
        addHole(covered, Math.min(s.rel, Math.max(covered, cutUntil)), 'cut by the snaplen');
        addHole(Math.max(covered, Math.min(s.rel, cutUntil)), s.rel, 'not captured');
        covered = s.rel;
      }
      if (end > covered) {
        if (s.rel < covered) overlaps.push(overlapOf(pieces, s, covered));
        const skip = covered - s.rel;
        pieces.push({
          streamOffset: covered,
          fileOffset: s.fileOffset + skip,
          length: end - covered,
          timeNs: s.timeNs,
        });
        covered = end;
      } else if (s.captured > 0) {
        overlaps.push(overlapOf(pieces, s, end));
      }
      cutUntil = Math.max(cutUntil, s.rel + s.wire);
    }
    const length = Math.max(covered, cutUntil, this.finAt ?? 0);
    addHole(covered, Math.min(length, Math.max(covered, cutUntil)), 'cut by the snaplen');
    addHole(Math.max(covered, cutUntil), length, 'not captured');
    return {
      pieces,
      holes,
      overlaps: overlaps.filter((o) => o.length > 0),
      length,
      sawSyn: this.sawSyn,
      finAt: this.finAt,
    };
  }
}

/** The part of segment `s` below `until` that earlier pieces already hold (the last piece's, for a retransmission). */
function overlapOf(pieces: Piece[], s: Segment, until: number): Overlap {
  // Retransmissions overlap the most recent pieces; search back from the end.
  for (let i = pieces.length - 1; i >= 0; i--) {
    const p = pieces[i];
    if (p.streamOffset <= s.rel && s.rel < p.streamOffset + p.length) {
      const length = Math.min(until, p.streamOffset + p.length) - s.rel;
      return {
        streamOffset: s.rel,
        length,
        firstFileOffset: p.fileOffset + (s.rel - p.streamOffset),
        laterFileOffset: s.fileOffset,
      };
    }
    if (p.streamOffset + p.length <= s.rel) break;
  }
  return { streamOffset: s.rel, length: 0, firstFileOffset: 0, laterFileOffset: 0 };
}
