import { MAIN_STREAM_MAGIC } from '../layout/streamMagic';

/**
 * Constants of QEMU's main migration stream (migration/savevm.c, migration/ram.c ≤ 9.2, migration/ram.h
 * 10.0+). The wire values are the same in every release 7.2 → 10.x unless noted.
 */

export const QEMU_VM_FILE_MAGIC = MAIN_STREAM_MAGIC.value;
export const QEMU_VM_FILE_VERSION = 3;
/** Version 2 streams are rejected by every QEMU we cover ("SaveVM v2 format is obsolete"). */
export const QEMU_VM_FILE_VERSION_COMPAT = 2;

export const QEMU_VM_EOF = 0x00;
export const QEMU_VM_SECTION_START = 0x01;
export const QEMU_VM_SECTION_PART = 0x02;
export const QEMU_VM_SECTION_END = 0x03;
export const QEMU_VM_SECTION_FULL = 0x04;
export const QEMU_VM_SUBSECTION = 0x05;
export const QEMU_VM_VMDESCRIPTION = 0x06;
export const QEMU_VM_CONFIGURATION = 0x07;
export const QEMU_VM_COMMAND = 0x08;
export const QEMU_VM_SECTION_FOOTER = 0x7e;

export const SECTION_TYPE_NAMES: Record<number, string> = {
  [QEMU_VM_EOF]: 'EOF',
  [QEMU_VM_SECTION_START]: 'START',
  [QEMU_VM_SECTION_PART]: 'PART',
  [QEMU_VM_SECTION_END]: 'END',
  [QEMU_VM_SECTION_FULL]: 'FULL',
  [QEMU_VM_SUBSECTION]: 'SUBSECTION',
  [QEMU_VM_VMDESCRIPTION]: 'VMDESCRIPTION',
  [QEMU_VM_CONFIGURATION]: 'CONFIGURATION',
  [QEMU_VM_COMMAND]: 'COMMAND',
  [QEMU_VM_SECTION_FOOTER]: 'FOOTER',
};

/** enum qemu_vm_cmd in savevm.c; the numbering has only ever been appended to. */
export const MIG_CMD_NAMES: Record<number, string> = {
  1: 'OPEN_RETURN_PATH',
  2: 'PING',
  3: 'POSTCOPY_ADVISE',
  4: 'POSTCOPY_LISTEN',
  5: 'POSTCOPY_RUN',
  6: 'POSTCOPY_RAM_DISCARD',
  7: 'PACKAGED',
  8: 'ENABLE_COLO',
  9: 'POSTCOPY_RESUME',
  10: 'RECV_BITMAP',
  11: 'SWITCHOVER_START', // 10.0+
};
export const MIG_CMD_POSTCOPY_ADVISE = 3;
export const MIG_CMD_POSTCOPY_RAM_DISCARD = 6;
export const MIG_CMD_PACKAGED = 7;

/** The RAM section's SaveStateEntry idstr and the version ram_load accepts. */
export const RAM_SECTION_IDSTR = 'ram';
export const RAM_SECTION_VERSION = 4;

export const RAM_SAVE_FLAG_FULL = 0x01; // obsolete since 2009; invalid on the wire
export const RAM_SAVE_FLAG_ZERO = 0x02;
export const RAM_SAVE_FLAG_MEM_SIZE = 0x04;
export const RAM_SAVE_FLAG_PAGE = 0x08;
export const RAM_SAVE_FLAG_EOS = 0x10;
export const RAM_SAVE_FLAG_CONTINUE = 0x20;
export const RAM_SAVE_FLAG_XBZRLE = 0x40;
export const RAM_SAVE_FLAG_HOOK = 0x80; // RDMA only
export const RAM_SAVE_FLAG_COMPRESS_PAGE = 0x100; // removed in 9.1
export const RAM_SAVE_FLAG_MULTIFD_FLUSH = 0x200; // 8.1+
/** Every flag bit some release defines; the low 10 bits of the record word. */
export const RAM_FLAG_MASK = 0x3ff;

/** XBZRLE header: u8 flags (must be ENCODING_FLAG_XBZRLE) + be16 length. */
export const ENCODING_FLAG_XBZRLE = 0x1;

/** sizeof(MappedRamHeader) (packed: u32 version, u64 page_size, u64 bitmap_offset, u64 pages_offset). */
export const MAPPED_RAM_HEADER_SIZE = 28;
export const MAPPED_RAM_HEADER_VERSION = 1;

/** zlib's compressBound(): the largest COMPRESS_PAGE payload the destination accepts. */
export function compressBound(n: number): number {
  return n + (n >>> 12) + (n >>> 14) + (n >>> 25) + 13;
}

export function ramFlagNames(flags: number): string {
  const names: [number, string][] = [
    [RAM_SAVE_FLAG_FULL, 'FULL'],
    [RAM_SAVE_FLAG_ZERO, 'ZERO'],
    [RAM_SAVE_FLAG_MEM_SIZE, 'MEM_SIZE'],
    [RAM_SAVE_FLAG_PAGE, 'PAGE'],
    [RAM_SAVE_FLAG_EOS, 'EOS'],
    [RAM_SAVE_FLAG_CONTINUE, 'CONTINUE'],
    [RAM_SAVE_FLAG_XBZRLE, 'XBZRLE'],
    [RAM_SAVE_FLAG_HOOK, 'HOOK'],
    [RAM_SAVE_FLAG_COMPRESS_PAGE, 'COMPRESS_PAGE'],
    [RAM_SAVE_FLAG_MULTIFD_FLUSH, 'MULTIFD_FLUSH'],
  ];
  const parts = names.filter(([bit]) => flags & bit).map(([, n]) => n);
  const rest = flags & ~RAM_FLAG_MASK;
  if (rest) parts.push('0x' + rest.toString(16));
  return parts.length ? parts.join('|') : '0';
}

/**
 * Bounds that keep memory proportional to what a real migration needs, whatever a hostile stream claims.
 * A real VM has a few dozen RAMBlocks, a machine-type name under 64 bytes, and a VM description of a few MiB.
 */
export const LIMITS = {
  maxRamBlocks: 4096,
  maxMachineTypeLength: 4096,
  maxCapabilities: 1024,
  maxVmDescription: 64 << 20,
  /** How far from the end the VM description is looked for. */
  vmDescriptionTail: 16 << 20,
  maxSections: 100_000,
  /**
   * About 11 bytes a record in the table and 13 in the replay schedule: no real guest comes near (a 1 TiB
   * guest sends 2^28 records a pass); a hostile stream needs 9 bytes of capture a record to grow it.
   */
  maxRecords: 2 ** 31,
  maxSectionIds: 65_536,
};

/** Target page sizes QEMU supports: TARGET_PAGE_BITS 10 … 16. */
export function isPlausiblePageSize(n: number): boolean {
  return Number.isInteger(n) && n >= 1024 && n <= 65536 && (n & (n - 1)) === 0;
}
