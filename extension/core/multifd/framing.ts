import { DEVICE_STATE_HEADER_SIZE, FLAG_DEVICE_STATE, methodOf, pageCount, ramPacketLength } from './constants';

/**
 * How QEMU's receiver frames a multifd stream: how long a packet's header is and how many payload bytes
 * follow it. The indexer, the page-size probe and the live decoder all frame through these.
 *
 * - Device state (10.0+, flags & DEVICE_STATE): a 276-byte header, then next_packet_size bytes.
 * - RAM: 320 bytes + the whole offset[] (512 KiB / page size entries), then a payload read only when
 *   normal_pages > 0, whatever next_packet_size says (senders up to 8.1 leave it stale in empty packets);
 *   nocomp reads normal_pages × page_size and ignores next_packet_size; compressed methods read
 *   next_packet_size.
 */

export interface FramingFields {
  flags: number;
  /** RAM packets only. */
  normalPages?: number;
  nextPacketSize: number;
}

export function isDeviceState(flags: number): boolean {
  return (flags & FLAG_DEVICE_STATE) !== 0;
}

/** Header bytes of a packet with these flags, for a target page size. */
export function headerLengthOf(flags: number, pageSize: number): number {
  return isDeviceState(flags) ? DEVICE_STATE_HEADER_SIZE : ramPacketLength(pageSize);
}

/** Payload bytes that follow the header. */
export function payloadLengthOf(h: FramingFields, pageSize: number): number {
  if (isDeviceState(h.flags)) return h.nextPacketSize;
  const normal = h.normalPages ?? 0;
  if (normal === 0) return 0;
  return methodOf(h.flags) === 'none' ? pagesInPayload(normal, pageSize) * pageSize : h.nextPacketSize;
}

/** Header plus payload: where the next packet starts, from this one's start. */
export function packetLengthOf(h: FramingFields, pageSize: number): number {
  return headerLengthOf(h.flags, pageSize) + payloadLengthOf(h, pageSize);
}

/** Pages a receiver decodes from the payload: normal_pages, never more than offset[] can list. */
export function pagesInPayload(normalPages: number, pageSize: number): number {
  return Math.min(normalPages, pageCount(pageSize));
}

/** offset[] entries the receiver reads: pages_alloc, never more than the header holds. */
export function offsetCapacity(pagesAlloc: number, pageSize: number): number {
  return Math.min(pagesAlloc, pageCount(pageSize));
}
