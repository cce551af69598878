/**
 * The first four bytes of each kind of migration stream, declared once: the capture opener, the analysis,
 * the indexers, the live decoder and every message that names a magic use these.
 */
export interface StreamMagic {
  /** The magic as QEMU writes it, a big-endian u32. */
  value: number;
  /** The same, as the bytes on the wire. */
  bytes: readonly number[];
  /** How messages spell it: `11 22 33 44`, `QEVM`. */
  shown: string;
}

function magicOf(value: number, shown?: string): StreamMagic {
  const bytes = [value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff];
  return { value, bytes, shown: shown ?? bytes.map((b) => b.toString(16).padStart(2, '0')).join(' ') };
}

/** MULTIFD_MAGIC (migration/multifd.h): MultiFDInit_t and every packet header start with it. */
export const MULTIFD_STREAM_MAGIC = magicOf(0x11223344);
/** QEMU_VM_FILE_MAGIC (migration/savevm.c): the main channel starts with it. */
export const MAIN_STREAM_MAGIC = magicOf(0x5145564d, 'QEVM');

export function startsWithMagic(b: Uint8Array, magic: StreamMagic, at = 0): boolean {
  return b.length >= at + 4 && magic.bytes.every((x, i) => b[at + i] === x);
}

/** Which stream starts with these bytes, if any. */
export function streamKindOf(first: Uint8Array): 'main' | 'multifd' | undefined {
  if (startsWithMagic(first, MAIN_STREAM_MAGIC)) return 'main';
  if (startsWithMagic(first, MULTIFD_STREAM_MAGIC)) return 'multifd';
  return undefined;
}

/** A u32 as messages show magics: `0x11223344`, zero-padded to eight digits. */
export function hex32(n: number): string {
  return '0x' + (n >>> 0).toString(16).padStart(8, '0');
}
