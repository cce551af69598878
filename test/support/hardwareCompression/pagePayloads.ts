import * as zlib from 'node:zlib';

/**
 * Packet payloads as QEMU's qpl, uadk and qatzip senders lay them out (migration/multifd-qpl.c, multifd-uadk.c,
 * multifd-qatzip.c; unchanged in their layout from 9.1/9.2 to 10.0), with the compression done by node:zlib in
 * place of the accelerator. Every function takes the packet's normal pages in offset[] order and returns the
 * bytes that follow the packet header (next_packet_size of them), plus what a test needs to know about them.
 */
export interface EncodedPayload {
  bytes: Uint8Array;
  /** Per normal page: the size written in the size array (qpl/uadk), page_size meaning raw. */
  sizes?: number[];
}

function be32Array(values: number[]): Uint8Array {
  const out = new Uint8Array(4 * values.length);
  const v = new DataView(out.buffer);
  values.forEach((x, i) => v.setUint32(4 * i, x));
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/**
 * qpl: be32 zlen[normal_pages], then each page as raw DEFLATE at level 1. The job's output buffer is
 * page_size - 1 bytes (multifd_qpl_prepare_comp_job), so a page that does not shrink below the page size fails
 * to compress and is sent raw with zlen = page_size.
 */
export function qplPayload(pages: Uint8Array[], pageSize: number): EncodedPayload {
  const sizes: number[] = [];
  const data: Uint8Array[] = [];
  for (const p of pages) {
    const z = zlib.deflateRawSync(p, { level: 1 });
    const piece = z.length <= pageSize - 1 ? new Uint8Array(z) : p;
    sizes.push(piece.length);
    data.push(piece);
  }
  return { bytes: concat([be32Array(sizes), ...data]), sizes };
}

export interface UadkOptions {
  /** With the HiSilicon card the sender compresses; without it (the default in CI) every page goes raw. */
  hardware: boolean;
  /** Leave out each compressed page's Adler-32 trailer, as a receiver must tolerate. */
  omitAdler?: boolean;
}

/**
 * uadk: be32 sizes[normal_pages], then per page a zlib stream (WD_ZLIB, "default level 1 compression and 4K
 * window size") when it came out smaller than the page, else the raw page with size = page_size. Without the
 * hardware (uadk_hw_init() fails) the sender sends every page raw.
 */
export function uadkPayload(pages: Uint8Array[], pageSize: number, opts: UadkOptions): EncodedPayload {
  const sizes: number[] = [];
  const data: Uint8Array[] = [];
  for (const p of pages) {
    let piece = p;
    if (opts.hardware) {
      let z: Uint8Array = new Uint8Array(zlib.deflateSync(p, { level: 1, windowBits: 12 }));
      if (opts.omitAdler) z = z.subarray(0, z.length - 4);
      if (z.length < pageSize) piece = z;
    }
    sizes.push(piece.length);
    data.push(piece);
  }
  return { bytes: concat([be32Array(sizes), ...data]), sizes };
}

/** QATzip's hardware buffer (QZ_HW_BUFF_SZ): the hardware path writes one gzip member per this much input. */
export const QZ_HW_BUFF_SZ = 64 * 1024;

/**
 * One gzip member in QATzip's QZ_DEFLATE_GZIP_EXT format: the 10-byte header with FEXTRA only, mtime 0, xfl 0,
 * os 255, XLEN 12, then the 'QZ' subfield (length 8) holding src_sz and dest_sz (little-endian, the host's
 * order), the deflate data, CRC-32 and ISIZE.
 */
export function qzGzipMember(input: Uint8Array, level: number): Uint8Array {
  // gzipSync computes the deflate data and the CRC-32/ISIZE trailer; its own 10-byte header is replaced.
  const g = zlib.gzipSync(input, { level });
  const deflate = g.subarray(10, g.length - 8);
  const header = new Uint8Array(24);
  const v = new DataView(header.buffer);
  header.set([0x1f, 0x8b, 8, 0x04, 0, 0, 0, 0, 0, 255]);
  v.setUint16(10, 12, true);
  header.set([0x51, 0x5a], 12);
  v.setUint16(14, 8, true);
  v.setUint32(16, input.length, true);
  v.setUint32(20, deflate.length, true);
  return concat([header, deflate, g.subarray(g.length - 8)]);
}

export interface QatzipOptions {
  /** 'hardware': a member per 64 KiB of input; 'software' (qzDeflateSWCompress): one member for the call. */
  style?: 'hardware' | 'software';
  /** multifd-qatzip-level (default 1). */
  level?: number;
}

/**
 * qatzip: the packet's normal pages copied into one buffer and compressed by one qzCompress() call; no size
 * array and no raw fallback.
 */
export function qatzipPayload(pages: Uint8Array[], opts: QatzipOptions = {}): EncodedPayload {
  const input = concat(pages);
  const level = opts.level ?? 1;
  if (opts.style === 'software') return { bytes: qzGzipMember(input, level) };
  const members: Uint8Array[] = [];
  for (let o = 0; o < input.length; o += QZ_HW_BUFF_SZ)
    members.push(qzGzipMember(input.subarray(o, o + QZ_HW_BUFF_SZ), level));
  return { bytes: concat(members) };
}
