import type { CompressionMethod } from '../../multifd/constants';
import { GZIP_FOOTER_SIZE, QZ_HEADER_SIZE, readQzHeader } from './qzGzipHeader';

/**
 * How a qpl, uadk or qatzip payload is cut into pieces, for showing it (the editor's details and bytes panes):
 * per page its compressed size and where its bytes are, or per gzip member the pages it holds. Unlike the
 * receivers it does not stop at the first inconsistency: it describes what fits and says where it stopped.
 */
export interface PageSlice {
  /** Index of the page in the packet's offset[] order. */
  slot: number;
  /** Where its bytes start in the payload, and how many the size array gives it. */
  start: number;
  size: number;
  /** A size equal to the page size: the page travelled uncompressed. */
  raw: boolean;
}

export interface MemberSlice {
  start: number;
  /** Header, deflate data and footer. */
  length: number;
  srcSize: number;
  destSize: number;
  /** The pages its output covers (first and last slot, inclusive). */
  firstSlot: number;
  lastSlot: number;
}

export interface PayloadFraming {
  method: 'qpl' | 'uadk' | 'qatzip';
  /** qpl/uadk: the be32 size array's length (it starts the payload). */
  sizeArrayLength?: number;
  pages?: PageSlice[];
  members?: MemberSlice[];
  /** Why the description stops early or does not add up, in the receiver's terms. */
  problem?: string;
}

export function describePayloadFraming(
  method: CompressionMethod,
  payload: Uint8Array,
  normalPages: number,
  pageSize: number,
): PayloadFraming | undefined {
  if (normalPages === 0) return undefined;
  if (method === 'qpl' || method === 'uadk') return perPage(method, payload, normalPages, pageSize);
  if (method === 'qatzip') return gzipRun(payload, normalPages, pageSize);
  return undefined;
}

function perPage(method: 'qpl' | 'uadk', payload: Uint8Array, normalPages: number, pageSize: number): PayloadFraming {
  const hdr = normalPages * 4;
  const f: PayloadFraming = { method, sizeArrayLength: hdr, pages: [] };
  if (payload.length < hdr) {
    f.problem = `the payload (${payload.length} bytes) ends inside the ${hdr}-byte size array`;
    return f;
  }
  const v = new DataView(payload.buffer, payload.byteOffset, hdr);
  let pos = hdr;
  for (let slot = 0; slot < normalPages; slot++) {
    const size = v.getUint32(4 * slot);
    f.pages!.push({ slot, start: pos, size, raw: size === pageSize });
    if (size > pageSize) f.problem ??= `page ${slot}'s size ${size} is more than the page size ${pageSize}`;
    pos += size;
  }
  if (pos !== payload.length && !f.problem) {
    f.problem = `the sizes add up to ${pos} bytes but the payload (next_packet_size) is ${payload.length}`;
  }
  return f;
}

function gzipRun(payload: Uint8Array, normalPages: number, pageSize: number): PayloadFraming {
  const f: PayloadFraming = { method: 'qatzip', members: [] };
  let pos = 0;
  let produced = 0;
  while (pos < payload.length) {
    const h = readQzHeader(payload, pos);
    if (typeof h === 'string') {
      f.problem = `member ${f.members!.length} at payload byte ${pos} ${h}`;
      return f;
    }
    const length = QZ_HEADER_SIZE + h.destSize + GZIP_FOOTER_SIZE;
    const firstSlot = Math.floor(produced / pageSize);
    produced += h.srcSize;
    f.members!.push({
      start: pos,
      length,
      srcSize: h.srcSize,
      destSize: h.destSize,
      firstSlot,
      lastSlot: Math.max(firstSlot, Math.ceil(produced / pageSize) - 1),
    });
    if (pos + length > payload.length) {
      f.problem = `member ${f.members!.length - 1} is cut short: it ends at byte ${pos + length} of a ${payload.length}-byte payload`;
      return f;
    }
    pos += length;
  }
  if (produced !== normalPages * pageSize) {
    f.problem = `the members hold ${produced} bytes, but normal_pages × page_size is ${normalPages * pageSize}`;
  }
  return f;
}
