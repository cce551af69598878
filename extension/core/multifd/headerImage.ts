import { DEVICE_STATE_HEADER_SIZE, FLAG_SYNC, RAM_PACKET_FIXED_SIZE, methodOf, pageCount } from './constants';
import { isDeviceState } from './framing';
import {
  checkDeviceStateHeader,
  checkFlags,
  checkNocompSize,
  checkOffsets,
  checkPacketStart,
  checkPageCounts,
  checkRamblockName,
  type HeaderProblem,
} from './packetChecks';
import { offsetEntryPosition, readDeviceStateHeader, readPacketHdr, readRamPacketHeader } from './packetHeaders';
import { packetOffsets, type PacketOffsets } from './packetPages';
import type { PacketSummary } from './packetTable';

/**
 * A packet header found outside a capture (a debuggee's memory: QEMU keeps the wire image in `p->packet`),
 * decoded and checked with the indexer's readers and checks. Read it in two steps: the fixed part first,
 * then as many offset[] entries as `offsetBytesToRead` says.
 */

/** Bytes that hold the fixed part of either header kind (the RAM one is the longer). */
export const HEADER_IMAGE_FIXED_BYTES = RAM_PACKET_FIXED_SIZE;

/** offset[] entries read at most when the page size is not known (pages_alloc is then unbounded). */
export const MAX_IMAGE_OFFSETS = 4096;

export interface HeaderImage extends PacketOffsets {
  summary: PacketSummary;
  problems: HeaderProblem[];
}

/** Magic and version of the fixed part: a problem here means there is no packet header at all. */
export function checkHeaderImageStart(fixed: Uint8Array): HeaderProblem | undefined {
  return checkPacketStart(readPacketHdr(fixed));
}

function offsetLimit(pagesAlloc: number, pageSize: number | undefined): number {
  return Math.min(pagesAlloc, pageSize ? pageCount(pageSize) : pagesAlloc, MAX_IMAGE_OFFSETS);
}

/** How many bytes of offset[] follow the fixed part that the receiver would read (0 for device state). */
export function offsetBytesToRead(fixed: Uint8Array, pageSize?: number): number {
  if (isDeviceState(readPacketHdr(fixed).flags)) return 0;
  const h = readRamPacketHeader(fixed);
  return (
    offsetEntryPosition(Math.min(h.normalPages + h.zeroPages, offsetLimit(h.pagesAlloc, pageSize))) -
    offsetEntryPosition(0)
  );
}

/** The header decoded: summary, used offsets and every problem QEMU's receiver (or a lint) would find. */
export function decodeHeaderImage(header: Uint8Array, pageSize?: number): HeaderImage {
  const start = checkPacketStart(readPacketHdr(header));
  const problems: HeaderProblem[] = start ? [start] : [];
  const { flags } = readPacketHdr(header);
  if (isDeviceState(flags)) {
    const h = readDeviceStateHeader(header);
    problems.push(...checkDeviceStateHeader(h));
    const summary = imageSummary({
      kind: 'device-state',
      flags,
      headerLength: DEVICE_STATE_HEADER_SIZE,
      ramblock: h.idstr,
      instanceId: h.instanceId,
      nextPacketSize: h.nextPacketSize,
    });
    return { summary, problems, normalOffsets: [], zeroOffsets: [] };
  }
  const h = readRamPacketHeader(header);
  problems.push(...checkFlags(flags), ...checkPageCounts(h, pageSize), ...checkRamblockName(h));
  const capacity = offsetLimit(h.pagesAlloc, pageSize);
  const offsets = packetOffsets(header, h.normalPages, h.zeroPages, capacity);
  if (pageSize) {
    problems.push(
      ...checkOffsets(
        header,
        offsets.normalOffsets.length + offsets.zeroOffsets.length,
        pageSize,
        h.ramblock,
        undefined,
      ),
    );
    problems.push(...checkNocompSize(h, pageSize));
  }
  const summary = imageSummary({
    kind: 'ram',
    flags,
    headerLength: header.length,
    ramblock: h.ramblock,
    pagesAlloc: h.pagesAlloc,
    normalPages: h.normalPages,
    zeroPages: h.zeroPages,
    nextPacketSize: h.nextPacketSize,
    packetNum: h.packetNum,
  });
  return { summary, problems, ...offsets };
}

/** A PacketSummary for a header that belongs to no stream (stream, index, epoch are -1). */
function imageSummary(
  p: Partial<PacketSummary> & Pick<PacketSummary, 'kind' | 'flags' | 'headerLength' | 'ramblock'>,
): PacketSummary {
  return {
    stream: -1,
    index: -1,
    headerOffset: 0,
    payloadOffset: p.headerLength,
    payloadLength: 0,
    sync: (p.flags & FLAG_SYNC) !== 0,
    method: methodOf(p.flags),
    pagesAlloc: 0,
    normalPages: 0,
    zeroPages: 0,
    nextPacketSize: 0,
    packetNum: -1,
    instanceId: 0,
    epoch: -1,
    timestampNs: 0,
    severity: 0,
    ...p,
  };
}
