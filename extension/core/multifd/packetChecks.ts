import type { DiagnosticCode } from '../diagnostics/codes';
import { hexNum } from '../util/bytes';
import {
  FLAG_SYNC,
  KNOWN_FLAG_BITS,
  METHOD_BY_VALUE,
  MULTIFD_MAGIC,
  MULTIFD_VERSION,
  methodOf,
  methodValue,
  pageCount,
} from './constants';
import {
  DEVICE_STATE_IDSTR_LAST_BYTE,
  HDR_FIELDS,
  RAM_FIELDS,
  DEVICE_STATE_FIELDS,
  effectiveRamblockName,
  offsetEntryPosition,
  readOffsetEntry,
  type DeviceStateHeader,
  type PacketHdr,
  type RamPacketHeader,
} from './packetHeaders';

/**
 * The checks QEMU's receiver makes on one packet header (multifd_recv_unfill_packet and the method's
 * unfill), plus a few lints of ours. Each returns the problems it finds, worded once here; the indexer turns
 * them into diagnostics at the packet's stream offset, the live decoder lists them.
 */
export interface HeaderProblem {
  code: DiagnosticCode;
  message: string;
  /** The byte the problem points at, from the start of the header. */
  at: number;
}

/** Magic and version: when either is wrong, nothing after them can be trusted (QEMU drops the channel). */
export function checkPacketStart(h: PacketHdr): HeaderProblem | undefined {
  if (h.magic !== MULTIFD_MAGIC)
    return {
      code: 'multifd.bad-magic',
      message: `multifd: received packet magic ${hexNum(h.magic)}, expected ${hexNum(MULTIFD_MAGIC)}`,
      at: HDR_FIELDS.magic.offset,
    };
  if (h.version !== MULTIFD_VERSION)
    return {
      code: 'multifd.bad-version',
      message: `multifd: received packet version ${h.version}, expected ${MULTIFD_VERSION}`,
      at: HDR_FIELDS.version.offset,
    };
  return undefined;
}

/** Flag bits and the compression field, for every RAM packet. */
export function checkFlags(flags: number): HeaderProblem[] {
  const out: HeaderProblem[] = [];
  const at = HDR_FIELDS.flags.offset;
  if (flags & ~KNOWN_FLAG_BITS)
    out.push({
      code: 'multifd.unknown-flags',
      message: `flags ${hexNum(flags)} has bits no QEMU release defines (${hexNum(flags & ~KNOWN_FLAG_BITS)})`,
      at,
    });
  if (METHOD_BY_VALUE[methodValue(flags)] === undefined)
    out.push({
      code: 'multifd.unknown-method',
      message: `compression field ${methodValue(flags)} (flags ${hexNum(flags)}) names no method`,
      at,
    });
  return out;
}

/**
 * The counts QEMU checks before it reads offset[]: pages_alloc against 512 KiB / page size (skipped when
 * the page size is not known), normal_pages against pages_alloc, zero_pages against what is left.
 */
export function checkPageCounts(
  h: Pick<RamPacketHeader, 'pagesAlloc' | 'normalPages' | 'zeroPages'>,
  pageSize?: number,
): HeaderProblem[] {
  const out: HeaderProblem[] = [];
  const { pagesAlloc, normalPages: normal, zeroPages: zero } = h;
  if (pageSize !== undefined && pagesAlloc > pageCount(pageSize)) {
    out.push({
      code: 'multifd.pages-alloc',
      message: `multifd: received packet with ${pagesAlloc} pages, expected ${pageCount(pageSize)} (page size ${pageSize})`,
      at: RAM_FIELDS.pages_alloc.offset,
    });
  }
  if (normal > pagesAlloc)
    out.push({
      code: 'multifd.normal-pages',
      message: `multifd: received packet with ${normal} non-zero pages, which exceeds maximum expected pages ${pagesAlloc}`,
      at: RAM_FIELDS.normal_pages.offset,
    });
  else if (zero > pagesAlloc - normal)
    out.push({
      code: 'multifd.zero-pages',
      message: `multifd: received packet with ${zero} zero pages and expected maximum zero pages are ${pagesAlloc - normal}`,
      at: RAM_FIELDS.zero_pages.offset,
    });
  return out;
}

/** A ramblock name with no NUL in its 256 bytes (checked for packets with pages, the only ones QEMU looks up). */
export function checkRamblockName(h: Pick<RamPacketHeader, 'ramblock' | 'ramblockTerminated'>): HeaderProblem[] {
  if (h.ramblockTerminated) return [];
  return [
    {
      code: 'multifd.ramblock-unterminated',
      message: `ramblock name has no NUL in 256 bytes; QEMU forces byte 255 to NUL and looks up "${effectiveRamblockName(h.ramblock)}"`,
      at: RAM_FIELDS.ramblock.offset,
    },
  ];
}

/** nocomp reads normal_pages × page_size whatever next_packet_size says: a disagreement is worth a word. */
export function checkNocompSize(
  h: Pick<RamPacketHeader, 'flags' | 'normalPages' | 'nextPacketSize'>,
  pageSize: number,
): HeaderProblem[] {
  const expected = h.normalPages * pageSize;
  if (methodOf(h.flags) !== 'none' || h.normalPages === 0 || h.nextPacketSize === expected) return [];
  return [
    {
      code: 'multifd.nocomp-size',
      message: `nocomp packet: next_packet_size ${h.nextPacketSize} but normal_pages × page_size = ${expected} (QEMU reads the latter)`,
      at: RAM_FIELDS.next_packet_size.offset,
    },
  ];
}

/**
 * The first `used` entries of offset[]: beyond used_length - page_size (QEMU's "offset too long"; only when
 * the block's size is known) or not page-aligned. Only the first of each kind is returned.
 */
export function checkOffsets(
  header: Uint8Array,
  used: number,
  pageSize: number,
  block: string,
  usedLength: number | undefined,
): HeaderProblem[] {
  const out: HeaderProblem[] = [];
  let outOfRange = false;
  let unaligned = false;
  for (let i = 0; i < used && !(outOfRange && unaligned); i++) {
    const off = readOffsetEntry(header, i);
    if (usedLength !== undefined && off > usedLength - pageSize) {
      if (!outOfRange)
        out.push({
          code: 'multifd.offset-range',
          message: `multifd: offset too long ${off} (max ${usedLength - pageSize}) in ramblock ${block}, offset[${i}]`,
          at: offsetEntryPosition(i),
        });
      outOfRange = true;
    } else if (off % pageSize !== 0 && !unaligned) {
      out.push({
        code: 'multifd.offset-unaligned',
        message: `offset[${i}] = ${hexNum(off)} is not a multiple of the page size ${pageSize}`,
        at: offsetEntryPosition(i),
      });
      unaligned = true;
    }
  }
  return out;
}

/** multifd_recv_unfill_packet_device_state's checks, and QEMU's refusal of SYNC on a device-state packet. */
export function checkDeviceStateHeader(h: DeviceStateHeader): HeaderProblem[] {
  const out: HeaderProblem[] = [];
  if (h.idstrLastByte !== 0)
    out.push({
      code: 'multifd.device-state.unterminated',
      message: `unterminated multifd device state idstr (byte ${DEVICE_STATE_IDSTR_LAST_BYTE} is not NUL)`,
      at: DEVICE_STATE_IDSTR_LAST_BYTE,
    });
  if (h.nextPacketSize === 0)
    out.push({
      code: 'multifd.device-state.empty',
      message: 'multifd: received empty device state packet',
      at: DEVICE_STATE_FIELDS.next_packet_size.offset,
    });
  if (h.flags & FLAG_SYNC)
    out.push({
      code: 'multifd.device-state.sync',
      message: 'multifd: received SYNC device state packet',
      at: HDR_FIELDS.flags.offset,
    });
  return out;
}
