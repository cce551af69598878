import type { FieldSpec, StructLayout } from '../layout/fieldLayout';

/**
 * The chunks of the `dirty-bitmap` section (migration/block-dirty-bitmap.c), declared as data. A section body
 * is a run of chunks, the last one with EOS. Each chunk is a header (flags, then the node alias and the bitmap
 * alias when the flags say they changed) and what its kind carries: START the bitmap's granularity and flags,
 * BITS a range of sectors and, unless ZEROES, the serialized bitmap; COMPLETE and EOS nothing more.
 */

export const DIRTY_BITMAP_SECTION_IDSTR = 'dirty-bitmap';

export const DIRTY_BITMAP_MIG_FLAG_EOS = 0x01;
export const DIRTY_BITMAP_MIG_FLAG_ZEROES = 0x02;
export const DIRTY_BITMAP_MIG_FLAG_BITMAP_NAME = 0x04;
export const DIRTY_BITMAP_MIG_FLAG_DEVICE_NAME = 0x08;
export const DIRTY_BITMAP_MIG_FLAG_START = 0x10;
export const DIRTY_BITMAP_MIG_FLAG_COMPLETE = 0x20;
export const DIRTY_BITMAP_MIG_FLAG_BITS = 0x40;
/** Set in a flags byte: one more flags byte follows (two, as a be16, after the second). */
export const DIRTY_BITMAP_MIG_EXTRA_FLAGS = 0x80;

export const DIRTY_BITMAP_MIG_START_FLAG_ENABLED = 0x01;
export const DIRTY_BITMAP_MIG_START_FLAG_PERSISTENT = 0x02;
/** 0x04 was AUTOLOAD in old releases and is ignored; the other bits make the destination refuse the bitmap. */
export const DIRTY_BITMAP_MIG_START_FLAG_RESERVED_MASK = 0xf8;

/** dirty_bitmap_load_bits refuses a buffer larger than 10 × CHUNK_SIZE (1 KiB). */
export const DIRTY_BITMAP_MAX_BUFFER = 10 * 1024;

/** The most bytes a chunk's header and fixed fields take: 4 flags bytes, two counted names, sector range, size. */
export const DIRTY_BITMAP_CHUNK_HEAD_MAX = 4 + 256 + 256 + 8 + 4 + 8;

const FLAG_NAMES: [number, string][] = [
  [DIRTY_BITMAP_MIG_FLAG_EOS, 'EOS'],
  [DIRTY_BITMAP_MIG_FLAG_ZEROES, 'ZEROES'],
  [DIRTY_BITMAP_MIG_FLAG_BITMAP_NAME, 'BITMAP_NAME'],
  [DIRTY_BITMAP_MIG_FLAG_DEVICE_NAME, 'DEVICE_NAME'],
  [DIRTY_BITMAP_MIG_FLAG_START, 'START'],
  [DIRTY_BITMAP_MIG_FLAG_COMPLETE, 'COMPLETE'],
  [DIRTY_BITMAP_MIG_FLAG_BITS, 'BITS'],
  [DIRTY_BITMAP_MIG_EXTRA_FLAGS, 'EXTRA_FLAGS'],
];

export function dirtyBitmapFlagNames(flags: number): string {
  const parts = FLAG_NAMES.filter(([bit]) => flags & bit).map(([, n]) => n);
  return parts.length ? parts.join('|') : '0';
}

/** How many bytes the flags take (qemu_get_bitmap_flags): 1, or 2 when the first has EXTRA_FLAGS, 4 when the second has it too. */
export function dirtyBitmapFlagsWidth(head: Uint8Array): 1 | 2 | 4 {
  if (!(head[0] & DIRTY_BITMAP_MIG_EXTRA_FLAGS)) return 1;
  return head[1] & DIRTY_BITMAP_MIG_EXTRA_FLAGS ? 4 : 2;
}

/**
 * The flags the destination acts on. qemu_get_bitmap_flags keeps them in a uint8_t, so of a wider value only the
 * last byte read survives; the sender never writes more than one byte.
 */
export function dirtyBitmapEffectiveFlags(head: Uint8Array): number {
  return head[dirtyBitmapFlagsWidth(head) - 1] ?? 0;
}

/** Which body a chunk has, in the order dirty_bitmap_load tests the flags. */
export type DirtyBitmapChunkKind = 'START' | 'COMPLETE' | 'BITS' | 'EOS' | 'NONE';

export function dirtyBitmapChunkKind(flags: number): DirtyBitmapChunkKind {
  if (flags & DIRTY_BITMAP_MIG_FLAG_START) return 'START';
  if (flags & DIRTY_BITMAP_MIG_FLAG_COMPLETE) return 'COMPLETE';
  if (flags & DIRTY_BITMAP_MIG_FLAG_BITS) return 'BITS';
  return flags & DIRTY_BITMAP_MIG_FLAG_EOS ? 'EOS' : 'NONE';
}

function counted(field: string, at: number, length: number, meaning: string): FieldSpec[] {
  return [
    { name: `${field}_len`, offset: at, width: 1, type: 'u8', meaning: `length of ${field}` },
    ...(length ? [{ name: field, offset: at + 1, width: length, type: 'cstring' as const, meaning }] : []),
  ];
}

/**
 * A chunk's layout, for the chunk whose first bytes are `head` (the widths of the flags and the lengths of the
 * names come from them). `fixedSize` is where the serialized bitmap of a BITS chunk starts.
 */
export function dirtyBitmapChunkLayout(head: Uint8Array): StructLayout {
  const width = dirtyBitmapFlagsWidth(head);
  const flags = dirtyBitmapEffectiveFlags(head);
  let at = width;
  const nodeLen = flags & DIRTY_BITMAP_MIG_FLAG_DEVICE_NAME ? (head[at] ?? 0) : 0;
  if (flags & DIRTY_BITMAP_MIG_FLAG_DEVICE_NAME) at += 1 + nodeLen;
  const bitmapLen = flags & DIRTY_BITMAP_MIG_FLAG_BITMAP_NAME ? (head[at] ?? 0) : 0;
  // A layout depends only on these four: built once each (a section may hold millions of chunks).
  const key = ((width * 256 + flags) * 256 + nodeLen) * 256 + bitmapLen;
  let layout = layoutCache.get(key);
  if (!layout) {
    if (layoutCache.size >= 4096) layoutCache.clear();
    layoutCache.set(key, (layout = buildChunkLayout(width, flags, nodeLen, bitmapLen)));
  }
  return layout;
}

const layoutCache = new Map<number, StructLayout>();

function buildChunkLayout(width: 1 | 2 | 4, flags: number, nodeLen: number, bitmapLen: number): StructLayout {
  const fields: FieldSpec[] = [
    {
      name: 'flags',
      offset: 0,
      width,
      type: width === 1 ? 'u8' : width === 2 ? 'u16be' : 'u32be',
      meaning: 'DIRTY_BITMAP_MIG_FLAG_*; EXTRA_FLAGS (0x80) makes the flags 2 or 4 bytes',
      explain: () => dirtyBitmapFlagNames(flags),
    },
  ];
  let at = width;
  if (flags & DIRTY_BITMAP_MIG_FLAG_DEVICE_NAME) {
    fields.push(...counted('node_alias', at, nodeLen, 'the block node (or its alias) the bitmap belongs to'));
    at += 1 + nodeLen;
  }
  if (flags & DIRTY_BITMAP_MIG_FLAG_BITMAP_NAME) {
    fields.push(...counted('bitmap_alias', at, bitmapLen, 'the bitmap (or its alias)'));
    at += 1 + bitmapLen;
  }
  const kind = dirtyBitmapChunkKind(flags);
  if (kind === 'START') {
    fields.push(
      { name: 'granularity', offset: at, width: 4, type: 'u32be', meaning: 'bytes a bit of the bitmap covers' },
      {
        name: 'bitmap_flags',
        offset: at + 4,
        width: 1,
        type: 'u8',
        meaning: 'DIRTY_BITMAP_MIG_START_FLAG_*: 0x01 enabled, 0x02 persistent; 0xf8 reserved',
      },
    );
    at += 5;
  } else if (kind === 'BITS') {
    fields.push(
      { name: 'start_sector', offset: at, width: 8, type: 'u64be', meaning: 'first 512-byte sector of the range' },
      { name: 'nr_sectors', offset: at + 8, width: 4, type: 'u32be', meaning: 'sectors in the range' },
    );
    at += 12;
    if (!(flags & DIRTY_BITMAP_MIG_FLAG_ZEROES)) {
      fields.push({
        name: 'buf_size',
        offset: at,
        width: 8,
        type: 'u64be',
        meaning: 'bytes of serialized bitmap that follow (absent with ZEROES: the range is clean)',
      });
      at += 8;
    }
  }
  // The flags' names only when shown (explain): a section may hold millions of chunks.
  return { cStruct: 'dirty-bitmap chunk (block-dirty-bitmap.c)', fixedSize: at, fields };
}
