import { MainStreamEncoder } from '../mainchannel/mainStreamEncoder';

/**
 * A mapped-ram image laid out as QEMU's mapped_ram_setup_ramblock lays it out (migration/ram.c): after each
 * block's MEM_SIZE entry a MappedRamHeader, the bitmap right after it (little-endian longs), the page region at
 * the next `align` boundary, and the stream going on after the region. Offsets in the headers count from the
 * start of the file, so `fileStart` (a `file:…,offset=N` prefix, libvirt's header) is added to them.
 */
export interface MappedBlockSpec {
  name: string;
  pages: number;
  /** Page index → its content, for pages whose bit is set. */
  present: Map<number, Uint8Array>;
  /** Pages whose bit is clear but whose slot holds stale bytes (written earlier, later found zero). */
  stale?: Map<number, Uint8Array>;
  /** x-ignore-shared: the GPA sent before the header. */
  gpa?: number;
  /** An ignored shared block: header offsets 0, no region. */
  shared?: boolean;
  /** Override a header field (hostile inputs). */
  header?: { pageSize?: number; bitmapOffset?: number; pagesOffset?: number; version?: number };
}

export interface MappedRamImageOptions {
  blocks: MappedBlockSpec[];
  pageSize?: number;
  fileStart?: number;
  align?: number;
  ignoreShared?: boolean;
  zeroBitmaps?: boolean;
}

/** The image as pieces at file offsets: page regions are holes except for the pages written into them. */
export function mappedRamPieces(o: MappedRamImageOptions): {
  pieces: { at: number; bytes: Uint8Array }[];
  length: number;
} {
  const ps = o.pageSize ?? 4096;
  const start = o.fileStart ?? 0;
  const align = o.align ?? ps;
  const caps = ['mapped-ram', ...(o.ignoreShared ? ['x-ignore-shared'] : [])];
  const pieces: { at: number; bytes: Uint8Array }[] = [];
  let base = start;
  let e = new MainStreamEncoder()
    .header()
    .configuration({ machineType: 'pc-i440fx-10.0', capabilities: caps })
    .sectionStart(1, 'ram');
  const total = o.blocks.reduce((n, b) => n + b.pages * ps, 0);
  e.word(total, 0x4);
  for (const b of o.blocks) {
    const used = b.pages * ps;
    e.name8(b.name).be64(used);
    if (o.ignoreShared) e.be64(b.gpa ?? 0);
    const bitmapBytes = Math.ceil(b.pages / 64) * 8;
    const bitmapOffset = b.shared ? 0 : base + e.length + 28;
    const pagesOffset = b.shared ? 0 : Math.ceil((bitmapOffset + bitmapBytes) / align) * align;
    e.be32(b.header?.version ?? 1)
      .be64(b.header?.pageSize ?? ps)
      .be64(b.header?.bitmapOffset ?? bitmapOffset)
      .be64(b.header?.pagesOffset ?? pagesOffset);
    if (b.shared) continue;
    const bitmap = new Uint8Array(bitmapBytes);
    if (!o.zeroBitmaps) for (const p of b.present.keys()) bitmap[p >>> 3] |= 1 << (p & 7);
    e.raw(bitmap);
    pieces.push({ at: base, bytes: e.bytes() });
    for (const [p, data] of [...b.present, ...(b.stale ?? [])])
      pieces.push({ at: pagesOffset + p * ps, bytes: data.subarray(0, ps) });
    base = pagesOffset + used;
    e = new MainStreamEncoder();
  }
  e.eos().footer(1).eof();
  pieces.push({ at: base, bytes: e.bytes() });
  return { pieces, length: base + e.length };
}

export function mappedRamImage(o: MappedRamImageOptions): Uint8Array {
  const { pieces, length } = mappedRamPieces(o);
  const out = new Uint8Array(length);
  for (const p of pieces) out.set(p.bytes, p.at);
  return out;
}

/** The RAM a destination holds after loading block `b`: present pages, zeros everywhere else. */
export function expectedRam(b: MappedBlockSpec, pageSize = 4096): Uint8Array {
  const ram = new Uint8Array(b.pages * pageSize);
  for (const [p, data] of b.present) ram.set(data.subarray(0, pageSize), p * pageSize);
  return ram;
}
