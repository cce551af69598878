import type { FieldSpec, StructLayout } from '../layout/fieldLayout';
import {
  describeFlags,
  DEVICE_STATE_HEADER_SIZE,
  MULTIFD_INIT_SIZE,
  MULTIFD_MAGIC,
  MULTIFD_PACKET_HDR_SIZE,
  OFFSET_ENTRY_SIZE,
  RAM_PACKET_FIXED_SIZE,
} from './constants';

/**
 * The layouts below are the only description of multifd header bytes: readers (packetHeaders.ts), the
 * packet-details tree, the filter language and the docs all go through them.
 */
const MAGIC: FieldSpec = {
  name: 'magic',
  offset: 0,
  width: 4,
  type: 'u32be',
  meaning: `MULTIFD_MAGIC, 0x${MULTIFD_MAGIC.toString(16)}`,
};
const VERSION: FieldSpec = { name: 'version', offset: 4, width: 4, type: 'u32be', meaning: 'MULTIFD_VERSION, 1' };

/** MultiFDPacketHdr_t (named so in 10.0; the same three words open every packet since 4.0). */
export const PACKET_HDR_FIELDS: readonly FieldSpec[] = [
  MAGIC,
  VERSION,
  {
    name: 'flags',
    offset: 8,
    width: 4,
    type: 'u32be',
    meaning: 'bit 0 SYNC; bits 1-5 compression method; 0x40 DEVICE_STATE (10.0+)',
    filterName: 'flags',
    explain: (v) => describeFlags(v as number),
  },
];

export const PACKET_HDR_LAYOUT: StructLayout = {
  cStruct: 'MultiFDPacketHdr_t',
  fixedSize: MULTIFD_PACKET_HDR_SIZE,
  fields: PACKET_HDR_FIELDS,
};

/** MultiFDInit_t: the 64-byte handshake, first on every multifd connection (unchanged 7.2 → 10.x). */
export const MULTIFD_INIT_LAYOUT: StructLayout = {
  cStruct: 'MultiFDInit_t',
  fixedSize: MULTIFD_INIT_SIZE,
  fields: [
    MAGIC,
    VERSION,
    {
      name: 'uuid',
      offset: 8,
      width: 16,
      type: 'uuid',
      meaning: "source VM's qemu_uuid (-uuid); the destination requires its own",
      filterName: 'uuid',
    },
    {
      name: 'id',
      offset: 24,
      width: 1,
      type: 'u8',
      meaning: 'channel index, 0 … multifd-channels-1',
      filterName: 'channel',
    },
    { name: 'unused1', offset: 25, width: 7, type: 'bytes', meaning: 'reserved, zero' },
    { name: 'unused2', offset: 32, width: 32, type: 'bytes', meaning: 'reserved, 4 × u64 zero' },
  ],
};

/**
 * MultiFDPacket_t for RAM. Wire bytes are the same in every release 7.2 → 10.x; 9.0 gave the first
 * reserved u32 the meaning zero_pages (older senders always wrote 0 there), and 10.0 only nested the
 * first three fields in MultiFDPacketHdr_t.
 */
export const RAM_PACKET_LAYOUT: StructLayout = {
  cStruct: 'MultiFDPacket_t',
  fixedSize: RAM_PACKET_FIXED_SIZE,
  fields: [
    ...PACKET_HDR_FIELDS,
    {
      name: 'pages_alloc',
      offset: 12,
      width: 4,
      type: 'u32be',
      meaning: 'capacity of offset[] = 512 KiB / page size (0 in 9.2+ SYNC packets)',
      filterName: 'pages_alloc',
    },
    {
      name: 'normal_pages',
      offset: 16,
      width: 4,
      type: 'u32be',
      meaning: 'pages whose data follows the header (pages_used before 7.0)',
      filterName: 'normal',
    },
    {
      name: 'next_packet_size',
      offset: 20,
      width: 4,
      type: 'u32be',
      meaning: 'payload bytes after the header; read only when normal_pages > 0 (stale in empty packets up to 8.1)',
      filterName: 'next_packet_size',
    },
    {
      name: 'packet_num',
      offset: 24,
      width: 8,
      type: 'u64be',
      meaning: 'global packet sequence number, shared by all channels',
      filterName: 'packet_num',
    },
    {
      name: 'zero_pages',
      offset: 32,
      width: 4,
      type: 'u32be',
      meaning: 'zero pages listed after the normal ones in offset[] (no data follows)',
      since: '9.0',
      filterName: 'zero',
    },
    { name: 'unused32', offset: 36, width: 4, type: 'bytes', meaning: 'reserved' },
    { name: 'unused64', offset: 40, width: 24, type: 'bytes', meaning: 'reserved, 3 × u64' },
    {
      name: 'ramblock',
      offset: 64,
      width: 256,
      type: 'cstring',
      meaning: 'RAMBlock idstr, NUL-padded (looked up only when the packet has pages)',
      filterName: 'ramblock',
    },
  ],
  array: {
    name: 'offset',
    offset: RAM_PACKET_FIXED_SIZE,
    elementWidth: OFFSET_ENTRY_SIZE,
    type: 'u64be',
    meaning: 'byte offsets within the ramblock: [0, normal_pages) normal, then zero_pages zero pages',
  },
};

/** MultiFDPacketDeviceState_t (10.0+, flags & 0x40): a device-state blob follows, never compressed. */
export const DEVICE_STATE_LAYOUT: StructLayout = {
  cStruct: 'MultiFDPacketDeviceState_t',
  fixedSize: DEVICE_STATE_HEADER_SIZE,
  fields: [
    MAGIC,
    VERSION,
    { ...PACKET_HDR_FIELDS[2], meaning: 'NOCOMP | DEVICE_STATE (0x40)' },
    {
      name: 'idstr',
      offset: 12,
      width: 256,
      type: 'cstring',
      meaning: "the device's SaveStateEntry idstr; must be NUL-terminated",
      filterName: 'idstr',
    },
    {
      name: 'instance_id',
      offset: 268,
      width: 4,
      type: 'u32be',
      meaning: 'SaveStateEntry instance id',
      filterName: 'instance_id',
    },
    {
      name: 'next_packet_size',
      offset: 272,
      width: 4,
      type: 'u32be',
      meaning: 'length of the device-state blob that follows',
      filterName: 'next_packet_size',
    },
  ],
};
