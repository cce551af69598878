import type { StreamBytes } from '../capture/streamBytes';
import type { StreamHole } from '../capture/captureEnded';
import { MULTIFD_MAGIC, MULTIFD_PACKET_HDR_SIZE } from './constants';
import { headerLengthOf, isDeviceState, offsetCapacity, packetLengthOf } from './framing';
import {
  checkDeviceStateHeader,
  checkFlags,
  checkOffsets,
  checkPacketStart,
  checkPageCounts,
  checkRamblockName,
} from './packetChecks';
import {
  effectiveRamblockName,
  isPacketHdrAt,
  readDeviceStateHeader,
  readPacketHdr,
  readRamPacketHeader,
} from './packetHeaders';

/**
 * Where a multifd stream can be picked up again after a hole. QEMU never has to do this (TCP gives it every
 * byte), so nothing on the wire marks a boundary: a boundary is proved when a header there passes every
 * check QEMU's receiver makes (packetChecks.ts), and the packet it frames ends at the stream's end, in a
 * hole, or where another header that passes them starts. Payloads are guest RAM and can hold the magic;
 * requiring two headers in a row makes a false start need two forged headers exactly one framing apart.
 */

export interface ResyncContext {
  pageSize: number;
  /** ramblock name → used_length from MEM_SIZE, when there is a main channel. */
  ramblocks?: Map<string, number>;
}

/** A hole in a multifd stream and what the indexer did about it. */
export interface MultifdHole extends StreamHole {
  /** The last row indexed before the hole (-1: none). */
  rowBefore: number;
  /** A row whose header survived but whose payload is (partly) in the hole. */
  damagedRow?: number;
  /** Where decoding resumed (undefined: no boundary could be proved, the rest is not decoded). */
  resumedAt?: number;
  /** The first row indexed after it (the table's length when decoding resumed there). */
  rowAfter?: number;
  /** Whether whole packets may be lost: the indexer scanned for a header rather than following the framing. */
  scanned: boolean;
}

const MAGIC_BYTES = Uint8Array.of(
  MULTIFD_MAGIC >>> 24,
  (MULTIFD_MAGIC >>> 16) & 0xff,
  (MULTIFD_MAGIC >>> 8) & 0xff,
  MULTIFD_MAGIC & 0xff,
);
const SCAN_CHUNK = 1 << 20;

/**
 * The framed length of the packet whose header starts at `pos`, when the whole header is there and passes
 * the receiver's checks; undefined otherwise.
 */
export async function checkedPacketAt(
  stream: StreamBytes,
  pos: number,
  ctx: ResyncContext,
): Promise<number | undefined> {
  if (pos + MULTIFD_PACKET_HDR_SIZE > stream.length || stream.holeIn(pos, pos + MULTIFD_PACKET_HDR_SIZE))
    return undefined;
  const start = readPacketHdr(await stream.read(pos, pos + MULTIFD_PACKET_HDR_SIZE));
  if (checkPacketStart(start)) return undefined;
  const headerLength = headerLengthOf(start.flags, ctx.pageSize);
  if (pos + headerLength > stream.length || stream.holeIn(pos, pos + headerLength)) return undefined;
  const hdr = await stream.read(pos, pos + headerLength);
  if (isDeviceState(start.flags)) {
    const d = readDeviceStateHeader(hdr);
    return checkDeviceStateHeader(d).length ? undefined : packetLengthOf(d, ctx.pageSize);
  }
  const h = readRamPacketHeader(hdr);
  if (checkFlags(h.flags).length || checkPageCounts(h, ctx.pageSize).length) return undefined;
  const listed = h.normalPages + h.zeroPages;
  if (listed > 0) {
    if (checkRamblockName(h).length) return undefined;
    const block = effectiveRamblockName(h.ramblock);
    const usedLength = ctx.ramblocks?.get(block);
    if (ctx.ramblocks && usedLength === undefined) return undefined;
    const used = Math.min(listed, offsetCapacity(h.pagesAlloc, ctx.pageSize));
    if (checkOffsets(hdr, used, ctx.pageSize, block, usedLength).length) return undefined;
  }
  return packetLengthOf(h, ctx.pageSize);
}

/** Whether `pos` is a boundary on its own: the stream's end, in a hole, or a header that passes the checks. */
export async function isBoundary(stream: StreamBytes, pos: number, ctx: ResyncContext): Promise<boolean> {
  if (pos === stream.length) return true;
  if (pos > stream.length) return false;
  if (stream.holeIn(pos, pos + 1)) return true;
  return (await checkedPacketAt(stream, pos, ctx)) !== undefined;
}

/**
 * The first offset at or after `from` where a checked header starts and the packet it frames ends on a
 * boundary (see isBoundary). Reads the present bytes in chunks, looking for the magic; undefined when none.
 */
export async function provedBoundaryFrom(
  stream: StreamBytes,
  from: number,
  ctx: ResyncContext,
): Promise<number | undefined> {
  let pos = from;
  while (pos < stream.length) {
    const present = stream.presentUntil(pos);
    if (present <= pos) {
      // Inside a hole: skip to its end.
      const h = stream.holeIn(pos, pos + 1)!;
      pos = h.streamOffset + h.length;
      continue;
    }
    const to = Math.min(present, pos + SCAN_CHUNK);
    const chunk = Buffer.from(await stream.read(pos, to));
    for (let at = chunk.indexOf(MAGIC_BYTES); at >= 0; at = chunk.indexOf(MAGIC_BYTES, at + 1)) {
      const q = pos + at;
      // The version word, when the chunk holds it, rules most false starts out without another read.
      if (at + MULTIFD_PACKET_HDR_SIZE <= chunk.length && !isPacketHdrAt(chunk, at)) continue;
      const length = await checkedPacketAt(stream, q, ctx);
      if (length !== undefined && (await isBoundary(stream, q + length, ctx))) return q;
    }
    // The next chunk starts where a magic cut by this chunk's end would start.
    pos = to === present ? to : Math.max(pos + 1, to - (MAGIC_BYTES.length - 1));
  }
  return undefined;
}
