/**
 * The checks a MappedRamHeader must pass before its bitmap and pages are read (beyond those the main-channel walk
 * makes: version, and offsets that go forward). QEMU's loader (parse_ramblock_mapped_ram) divides used_length by
 * the header's page_size, reads BITS_TO_LONGS(pages) longs at bitmap_offset and requires pages_offset to be page
 * aligned; a hostile header must not make this reader divide by zero or read gigabytes of "bitmap".
 */

export interface MappedRamBlockFields {
  name: string;
  usedLength: number;
  pageSize: number;
  /** Stream offsets (file offsets minus where the stream starts). */
  bitmapOffset: number;
  pagesOffset: number;
  /** pages_offset as the header has it (a file offset): what QEMU checks for alignment. */
  pagesFileOffset: number;
  streamLength: number;
  /** The page size replay writes images with. */
  replayPageSize: number;
}

/** Largest bitmap read: 256 MiB covers 8 TiB of RAM at 4 KiB pages. */
export const MAX_BITMAP_BYTES = 256 << 20;

export function checkMappedRamBlock(f: MappedRamBlockFields): { message: string } | undefined {
  const ps = f.pageSize;
  if (!Number.isSafeInteger(ps) || ps < 512 || ps > 1 << 30 || (ps & (ps - 1)) !== 0)
    return { message: `MappedRamHeader page_size ${ps} is not a power of two between 512 and 1 GiB` };
  if (ps !== f.replayPageSize)
    return {
      message: `MappedRamHeader page_size ${ps} differs from the page size in use (${f.replayPageSize}; set it with --page-size)`,
    };
  if (f.pagesFileOffset % ps !== 0)
    return {
      message: `pages_offset ${f.pagesFileOffset} is not aligned to the ${ps}-byte page size, which QEMU's loader requires`,
    };
  const pages = Math.floor(f.usedLength / ps);
  const bitmapBytes = Math.ceil(pages / 64) * 8;
  if (bitmapBytes > MAX_BITMAP_BYTES)
    return {
      message: `a ${f.usedLength}-byte block needs a ${bitmapBytes}-byte bitmap, over the ${MAX_BITMAP_BYTES}-byte limit`,
    };
  if (f.bitmapOffset + bitmapBytes > f.streamLength)
    return {
      message: `the ${bitmapBytes}-byte bitmap at stream offset ${f.bitmapOffset} runs past the end of the stream (${f.streamLength} bytes)`,
    };
  if (f.bitmapOffset + bitmapBytes > f.pagesOffset)
    return {
      message: `the ${bitmapBytes}-byte bitmap at stream offset ${f.bitmapOffset} overlaps the page region at ${f.pagesOffset}`,
    };
  return undefined;
}
