import { hex } from '../../util/bytes';

/** The fields of a zstd frame header (RFC 8878 §3.1.1.1) that matter for a never-ending frame. */
export interface ZstdFrameHeader {
  /** Header length in bytes, magic included. */
  length: number;
  windowSize: number;
  /** Window_Descriptor byte, or undefined for a single-segment frame (window = content size). */
  windowDescriptor: number | undefined;
  checksum: boolean;
  dictionaryId: number;
  contentSize: number | undefined;
}

export const ZSTD_MAGIC = [0x28, 0xb5, 0x2f, 0xfd] as const;

/** Parses the header at the start of `b`; undefined if `b` is too short to hold it, throws Error if it is not one. */
export function parseZstdFrameHeader(b: Uint8Array): ZstdFrameHeader | undefined {
  if (b.length < 5) return undefined;
  if (b[0] !== ZSTD_MAGIC[0] || b[1] !== ZSTD_MAGIC[1] || b[2] !== ZSTD_MAGIC[2] || b[3] !== ZSTD_MAGIC[3]) {
    throw new Error(`Unknown frame descriptor: no zstd frame magic (${hex(b.subarray(0, 4))})`);
  }
  const fhd = b[4];
  if (fhd & 0x08) throw new Error('Unsupported frame parameter: reserved bit set in the frame header');
  const fcsFlag = fhd >> 6;
  const singleSegment = (fhd & 0x20) !== 0;
  const checksum = (fhd & 0x04) !== 0;
  const didBytes = [0, 1, 2, 4][fhd & 3];
  const fcsBytes = fcsFlag === 0 ? (singleSegment ? 1 : 0) : 1 << fcsFlag;
  const length = 5 + (singleSegment ? 0 : 1) + didBytes + fcsBytes;
  if (b.length < length) return undefined;
  let pos = 5;
  let windowDescriptor: number | undefined;
  let windowSize = 0;
  if (!singleSegment) {
    windowDescriptor = b[pos++];
    const windowBase = 2 ** (10 + (windowDescriptor >> 3));
    windowSize = windowBase + (windowBase / 8) * (windowDescriptor & 7);
  }
  const dictionaryId = readLE(b, pos, didBytes);
  pos += didBytes;
  let contentSize: number | undefined;
  if (fcsBytes) contentSize = readLE(b, pos, fcsBytes) + (fcsBytes === 2 ? 256 : 0);
  if (singleSegment) windowSize = contentSize!;
  return { length, windowSize, windowDescriptor, checksum, dictionaryId, contentSize };
}

function readLE(b: Uint8Array, pos: number, n: number): number {
  let v = 0;
  for (let i = n - 1; i >= 0; i--) v = v * 256 + b[pos + i];
  return v;
}
