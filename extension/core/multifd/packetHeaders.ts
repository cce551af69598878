import { be64 } from '../util/bytes';
import { fieldsOf, readCString, readField, readU32, readU64 } from '../layout/fieldLayout';
import { MULTIFD_MAGIC, MULTIFD_VERSION } from './constants';
import { DEVICE_STATE_LAYOUT, MULTIFD_INIT_LAYOUT, PACKET_HDR_LAYOUT, RAM_PACKET_LAYOUT } from './layouts';

/**
 * Typed readers of multifd header bytes, through the layouts' field declarations: no offset appears here or
 * in any caller. `base` is where the structure starts in `b`; a reader only reads within what it is given,
 * so callers check lengths first (an out-of-range u32 reads as garbage, never throws).
 */

export const INIT_FIELDS = fieldsOf(MULTIFD_INIT_LAYOUT, ['magic', 'version', 'uuid', 'id']);
export const HDR_FIELDS = fieldsOf(PACKET_HDR_LAYOUT, ['magic', 'version', 'flags']);
export const RAM_FIELDS = fieldsOf(RAM_PACKET_LAYOUT, [
  'magic',
  'version',
  'flags',
  'pages_alloc',
  'normal_pages',
  'next_packet_size',
  'packet_num',
  'zero_pages',
  'ramblock',
]);
export const DEVICE_STATE_FIELDS = fieldsOf(DEVICE_STATE_LAYOUT, [
  'magic',
  'version',
  'flags',
  'idstr',
  'instance_id',
  'next_packet_size',
]);

export interface MultifdInit {
  magic: number;
  version: number;
  uuid: string;
  channelId: number;
}

/** MultiFDPacketHdr_t: the three words every packet starts with. */
export interface PacketHdr {
  magic: number;
  version: number;
  flags: number;
}

export interface RamPacketHeader extends PacketHdr {
  pagesAlloc: number;
  normalPages: number;
  nextPacketSize: number;
  packetNum: number;
  zeroPages: number;
  /** The ramblock bytes up to the first NUL (all 256 when there is none). */
  ramblock: string;
  ramblockTerminated: boolean;
}

export interface DeviceStateHeader extends PacketHdr {
  idstr: string;
  idstrTerminated: boolean;
  /** idstr[255]: QEMU requires a NUL there, whatever comes before. */
  idstrLastByte: number;
  instanceId: number;
  nextPacketSize: number;
}

export function readMultifdInit(b: Uint8Array, base = 0): MultifdInit {
  return {
    magic: readU32(INIT_FIELDS.magic, b, base),
    version: readU32(INIT_FIELDS.version, b, base),
    uuid: readField(INIT_FIELDS.uuid, b, base) as string,
    channelId: readField(INIT_FIELDS.id, b, base) as number,
  };
}

export function readPacketHdr(b: Uint8Array, base = 0): PacketHdr {
  return {
    magic: readU32(HDR_FIELDS.magic, b, base),
    version: readU32(HDR_FIELDS.version, b, base),
    flags: readU32(HDR_FIELDS.flags, b, base),
  };
}

/** Whether a packet header (magic and version) starts at `base`. */
export function isPacketHdrAt(b: Uint8Array, base = 0): boolean {
  if (b.length < base + HDR_FIELDS.version.offset + HDR_FIELDS.version.width) return false;
  return (
    readU32(HDR_FIELDS.magic, b, base) === MULTIFD_MAGIC && readU32(HDR_FIELDS.version, b, base) === MULTIFD_VERSION
  );
}

export function readRamPacketHeader(b: Uint8Array, base = 0): RamPacketHeader {
  const block = readCString(RAM_FIELDS.ramblock, b, base);
  // Called once per packet by the indexer: fields listed out, since an object spread here costs more than the rest.
  return {
    magic: readU32(RAM_FIELDS.magic, b, base),
    version: readU32(RAM_FIELDS.version, b, base),
    flags: readU32(RAM_FIELDS.flags, b, base),
    pagesAlloc: readU32(RAM_FIELDS.pages_alloc, b, base),
    normalPages: readU32(RAM_FIELDS.normal_pages, b, base),
    nextPacketSize: readU32(RAM_FIELDS.next_packet_size, b, base),
    packetNum: readU64(RAM_FIELDS.packet_num, b, base),
    zeroPages: readU32(RAM_FIELDS.zero_pages, b, base),
    ramblock: block.text,
    ramblockTerminated: block.terminated,
  };
}

export function readDeviceStateHeader(b: Uint8Array, base = 0): DeviceStateHeader {
  const idstr = readCString(DEVICE_STATE_FIELDS.idstr, b, base);
  return {
    ...readPacketHdr(b, base),
    idstr: idstr.text,
    idstrTerminated: idstr.terminated,
    idstrLastByte: b[base + DEVICE_STATE_IDSTR_LAST_BYTE] ?? 0,
    instanceId: readU32(DEVICE_STATE_FIELDS.instance_id, b, base),
    nextPacketSize: readU32(DEVICE_STATE_FIELDS.next_packet_size, b, base),
  };
}

/** Where offset[i] lives, from the start of the RAM packet header. */
export function offsetEntryPosition(i: number): number {
  const a = RAM_PACKET_LAYOUT.array!;
  return a.offset + a.elementWidth * i;
}

/** How many whole offset[] entries a header of `headerBytes` bytes holds. */
export function offsetEntriesIn(headerBytes: number): number {
  const a = RAM_PACKET_LAYOUT.array!;
  return Math.max(0, Math.floor((headerBytes - a.offset) / a.elementWidth));
}

export function readOffsetEntry(b: Uint8Array, i: number, base = 0): number {
  return be64(b, base + offsetEntryPosition(i));
}

/** The last byte of the device-state idstr, which must be NUL. */
export const DEVICE_STATE_IDSTR_LAST_BYTE = DEVICE_STATE_FIELDS.idstr.offset + DEVICE_STATE_FIELDS.idstr.width - 1;

/**
 * The ramblock QEMU looks up: it forces ramblock[255] = 0 before qemu_ram_block_by_name(), so a name with no
 * NUL in its 256 bytes is cut to 255. Computed once, at index time, and stored in the packet table.
 */
export function effectiveRamblockName(ramblock: string): string {
  const width = RAM_FIELDS.ramblock.width;
  return ramblock.length >= width ? ramblock.slice(0, width - 1) : ramblock;
}
