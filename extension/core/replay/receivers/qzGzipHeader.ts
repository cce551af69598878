/** The QATzip gzip header (QZ_DEFLATE_GZIP_EXT): 10 standard bytes, XLEN, then the 'QZ' subfield of 8 bytes. */
export const QZ_HEADER_SIZE = 24;
/** CRC-32 and ISIZE. */
export const GZIP_FOOTER_SIZE = 8;

export interface QzMemberHeader {
  /** Uncompressed bytes of the member. */
  srcSize: number;
  /** Deflate bytes between the header and the footer. */
  destSize: number;
}

/** The checks qzGzipHeaderExt() makes before decompressing a member (xfl and os, informational, are not required). */
export function readQzHeader(p: Uint8Array, pos: number): QzMemberHeader | string {
  if (p.length - pos < QZ_HEADER_SIZE)
    return `is cut short: ${p.length - pos} byte(s) left where a ${QZ_HEADER_SIZE}-byte QZ gzip header starts`;
  const v = new DataView(p.buffer, p.byteOffset + pos, QZ_HEADER_SIZE);
  const hex = (n: number) => `0x${n.toString(16).padStart(2, '0')}`;
  if (p[pos] !== 0x1f || p[pos + 1] !== 0x8b)
    return `does not start with the gzip magic 1f 8b (found ${hex(p[pos])} ${hex(p[pos + 1])})`;
  if (p[pos + 2] !== 8) return `has compression method ${p[pos + 2]}, not 8 (deflate)`;
  if (p[pos + 3] !== 0x04) return `has gzip flags ${hex(p[pos + 3])}, not 0x04 (FEXTRA only)`;
  if (v.getUint16(10, true) !== 12)
    return `has an extra field of ${v.getUint16(10, true)} bytes, not the 12 of QATzip's QZ field`;
  if (p[pos + 12] !== 0x51 || p[pos + 13] !== 0x5a || v.getUint16(14, true) !== 8)
    return `has no 'QZ' extra subfield of 8 bytes (found ${hex(p[pos + 12])} ${hex(p[pos + 13])}, length ${v.getUint16(14, true)})`;
  return { srcSize: v.getUint32(16, true), destSize: v.getUint32(20, true) };
}
