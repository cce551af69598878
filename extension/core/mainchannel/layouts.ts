import type { StructLayout } from '../layout/fieldLayout';
import { MAIN_STREAM_MAGIC } from '../layout/streamMagic';
import { MAPPED_RAM_HEADER_SIZE, MAPPED_RAM_HEADER_VERSION, QEMU_VM_FILE_VERSION } from './constants';

/**
 * The main channel's fixed-size records, declared as data like the multifd layouts. Most of the main
 * channel is variable-length (u8-prefixed names, VMState) and is read field by field by the walker.
 */

/** The 8 bytes that open a main channel (qemu_savevm_state_header): QEMU_VM_FILE_MAGIC, QEMU_VM_FILE_VERSION. */
export const MAIN_FILE_HEADER_LAYOUT: StructLayout = {
  cStruct: 'QEMU_VM_FILE_MAGIC + QEMU_VM_FILE_VERSION',
  fixedSize: 8,
  fields: [
    { name: 'magic', offset: 0, width: 4, type: 'u32be', meaning: `QEMU_VM_FILE_MAGIC, "${MAIN_STREAM_MAGIC.shown}"` },
    { name: 'version', offset: 4, width: 4, type: 'u32be', meaning: `QEMU_VM_FILE_VERSION, ${QEMU_VM_FILE_VERSION}` },
  ],
};

/** MappedRamHeader (migration/ram.c, 9.0+, QEMU_PACKED): follows each block's MEM_SIZE entry with mapped-ram. */
export const MAPPED_RAM_HEADER_LAYOUT: StructLayout = {
  cStruct: 'MappedRamHeader',
  fixedSize: MAPPED_RAM_HEADER_SIZE,
  fields: [
    {
      name: 'version',
      offset: 0,
      width: 4,
      type: 'u32be',
      meaning: `MAPPED_RAM_HDR_VERSION, ${MAPPED_RAM_HEADER_VERSION}`,
    },
    { name: 'page_size', offset: 4, width: 8, type: 'u64be', meaning: 'target page size of the bitmap' },
    { name: 'bitmap_offset', offset: 12, width: 8, type: 'u64be', meaning: "file offset of the block's dirty bitmap" },
    { name: 'pages_offset', offset: 20, width: 8, type: 'u64be', meaning: "file offset of the block's page region" },
  ],
};
