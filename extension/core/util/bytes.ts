/** Big-endian readers for QEMU's wire data, and small helpers for showing bytes in messages. */

export function be16(b: Uint8Array, off: number): number {
  return (b[off] << 8) | b[off + 1];
}

export function be32(b: Uint8Array, off: number): number {
  return ((b[off] << 24) >>> 0) + ((b[off + 1] << 16) | (b[off + 2] << 8) | b[off + 3]);
}

/** A u64 as a number. Exact below 2^53; QEMU's offsets and packet numbers stay far below that. */
export function be64(b: Uint8Array, off: number): number {
  return be32(b, off) * 0x1_0000_0000 + be32(b, off + 4);
}

export function be64Big(b: Uint8Array, off: number): bigint {
  return (BigInt(be32(b, off)) << 32n) | BigInt(be32(b, off + 4));
}

export function le16(b: Uint8Array, off: number): number {
  return b[off] | (b[off + 1] << 8);
}

export function le32(b: Uint8Array, off: number): number {
  return (b[off] | (b[off + 1] << 8) | (b[off + 2] << 16)) + ((b[off + 3] << 24) >>> 0);
}

export function le64(b: Uint8Array, off: number): number {
  return le32(b, off) + le32(b, off + 4) * 0x1_0000_0000;
}

export function hex(b: Uint8Array, max = 16): string {
  const parts: string[] = [];
  for (let i = 0; i < Math.min(b.length, max); i++) parts.push(b[i].toString(16).padStart(2, '0'));
  return parts.join(' ') + (b.length > max ? ' …' : '');
}

export function hexNum(n: number | bigint): string {
  return '0x' + n.toString(16);
}

/** A NUL-terminated string from a fixed-size field; `terminated` says whether a NUL was found. */
export function cString(b: Uint8Array, off: number, width: number): { text: string; terminated: boolean } {
  const end = Math.min(b.length, off + width);
  let i = off;
  while (i < end && b[i] !== 0) i++;
  return { text: latin1(b.subarray(off, i)), terminated: i < end };
}

/** QEMU idstrs are C strings of arbitrary bytes; latin1 keeps every byte visible and reversible. */
export function latin1(b: Uint8Array): string {
  let s = '';
  // Ramblock names are short and read once per packet: a plain loop beats building an argument list.
  if (b.length <= 64) {
    for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]);
    return s;
  }
  for (let i = 0; i < b.length; i += 4096) s += String.fromCharCode(...b.subarray(i, i + 4096));
  return s;
}

export function isAllZero(b: Uint8Array): boolean {
  for (let i = 0; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
}

export function uuidString(b: Uint8Array): string {
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}
