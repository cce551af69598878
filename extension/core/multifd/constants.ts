import { MULTIFD_STREAM_MAGIC } from '../layout/streamMagic';

/** Constants from QEMU's migration/multifd.h and multifd.c (unchanged 7.2 → 10.2 unless noted). */

export const MULTIFD_MAGIC = MULTIFD_STREAM_MAGIC.value;
export const MULTIFD_VERSION = 1;
/** MULTIFD_PACKET_SIZE: 512 KiB of pages per packet; page_count = this / target page size. */
export const MULTIFD_PACKET_SIZE = 512 * 1024;
export const MULTIFD_INIT_SIZE = 64;
/** sizeof(MultiFDPacketHdr_t): magic, version, flags. */
export const MULTIFD_PACKET_HDR_SIZE = 12;
/** sizeof(MultiFDPacket_t) without offset[]. */
export const RAM_PACKET_FIXED_SIZE = 320;
/** Each offset[] entry is a u64. */
export const OFFSET_ENTRY_SIZE = 8;
/** sizeof(MultiFDPacketDeviceState_t), 10.0+. */
export const DEVICE_STATE_HEADER_SIZE = 276;

export const FLAG_SYNC = 0x1;
export const FLAG_DEVICE_STATE = 0x40;
/** Every bit some QEMU release defines (SYNC, method bits up to QATZIP, DEVICE_STATE). */
export const KNOWN_FLAG_BITS = 0x7f;

export type CompressionMethod = 'none' | 'zlib' | 'zstd' | 'qpl' | 'uadk' | 'qatzip';

/** The compression field is a method number at bits 1..5: (flags >> 1) & 0x1f. */
export const METHOD_BY_VALUE: Record<number, CompressionMethod> = {
  0: 'none',
  1: 'zlib',
  2: 'zstd',
  4: 'qpl',
  8: 'uadk',
  16: 'qatzip',
};
export const METHOD_SINCE: Record<CompressionMethod, string> = {
  none: '4.0',
  zlib: '5.0',
  zstd: '5.0',
  qpl: '9.1',
  uadk: '9.1',
  qatzip: '9.2',
};

export function methodValue(flags: number): number {
  return (flags >>> 1) & 0x1f;
}

export function methodOf(flags: number): CompressionMethod | undefined {
  return METHOD_BY_VALUE[methodValue(flags)];
}

export function methodFlags(method: CompressionMethod): number {
  const v = Number(Object.entries(METHOD_BY_VALUE).find(([, m]) => m === method)![0]);
  return v << 1;
}

/** page_count for a target page size: the length of offset[] on the wire. */
export function pageCount(pageSize: number): number {
  return Math.floor(MULTIFD_PACKET_SIZE / pageSize);
}

/** packet_len: the fixed size of every RAM packet header of a migration (the offset array is always sent whole). */
export function ramPacketLength(pageSize: number): number {
  return RAM_PACKET_FIXED_SIZE + OFFSET_ENTRY_SIZE * pageCount(pageSize);
}

export function describeFlags(flags: number): string {
  const parts: string[] = [];
  if (flags & FLAG_SYNC) parts.push('SYNC');
  if (flags & FLAG_DEVICE_STATE) parts.push('DEVICE_STATE');
  const m = methodOf(flags);
  parts.push(m ? (m === 'none' ? 'NOCOMP' : m.toUpperCase()) : `method ${methodValue(flags)}?`);
  const unknown = flags & ~KNOWN_FLAG_BITS;
  if (unknown) parts.push(`unknown 0x${unknown.toString(16)}`);
  return parts.join(' | ');
}
