import type { StreamBytes } from '../streamBytes';
import type { DiagnosticSink } from '../../diagnostics/diagnostic';
import type { MainChannelIndex } from '../../mainchannel/mainChannelTypes';
import { checkMappedRamBlock } from './mappedRamChecks';

/**
 * A mapped-ram image (`migrate file:` with capability mapped-ram, 9.0+; with or without multifd): each RAMBlock's
 * pages sit at fixed file offsets, and its bitmap (written last, in ram_save_complete) says which pages are there.
 * The bitmap is the only truth: a page with its bit clear is zero whatever bytes sit in its slot (a page written
 * and later found zero keeps stale bytes; a page never written is a hole). Pages are read in place, a window of
 * up to 256 pages at a time (QEMU's MAPPED_RAM_LOAD_BUF_SIZE, 1 MiB, at 4 KiB pages); only bitmaps are held.
 */

export const MAPPED_RAM_WINDOW_PAGES = 256;

export interface MappedRamBlock {
  name: string;
  /** Index into the main channel's ramblocks. */
  blockIndex: number;
  usedLength: number;
  /** From the MappedRamHeader (TARGET_PAGE_SIZE of the source). */
  pageSize: number;
  pages: number;
  /** x-ignore-shared: its guest physical address, when the stream carries it. */
  gpa?: number;
  /** An ignored (shared) block: no bitmap, no pages in the file. */
  shared: boolean;
  bitmapStreamOffset?: number;
  pagesStreamOffset?: number;
  bitmapFileOffset?: number;
  pagesFileOffset?: number;
  /** BITS_TO_LONGS(pages) little-endian longs: bit i of byte i>>3 is page i. Undefined when unreadable. */
  bitmap?: Uint8Array;
  present: number;
  /** Why the block is not replayed, when it is not. */
  problem?: string;
}

export interface MappedRamIndex {
  streamId: number;
  blocks: MappedRamBlock[];
  /** One replay entry per window holding at least one present page. */
  windowBlock: Int32Array;
  windowFirstPage: Float64Array;
  windows: number;
  /** Every bitmap is all zero although pages were expected: an interrupted save. */
  interrupted: boolean;
}

export function pagePresent(bitmap: Uint8Array, page: number): boolean {
  return (bitmap[page >>> 3] & (1 << (page & 7))) !== 0;
}

function countBits(bitmap: Uint8Array, pages: number): number {
  let n = 0;
  const full = pages >>> 3;
  for (let i = 0; i < full; i++) {
    let b = bitmap[i];
    while (b) {
      b &= b - 1;
      n++;
    }
  }
  for (let p = full * 8; p < pages; p++) if (pagePresent(bitmap, p)) n++;
  return n;
}

/** Whether the main channel is a mapped-ram stream (its configuration lists the capability). */
export function isMappedRam(main: MainChannelIndex | undefined): boolean {
  return !!main?.configuration?.capabilities.includes('mapped-ram');
}

/** Reads every block's bitmap (a few MiB even for a large guest) and lists the windows that hold pages. */
export async function indexMappedRam(
  main: MainChannelIndex,
  stream: StreamBytes,
  pageSize: number,
  sink: DiagnosticSink,
): Promise<MappedRamIndex> {
  const blocks: MappedRamBlock[] = [];
  const at = (streamOffset: number) => ({
    stream: main.streamId,
    streamOffset,
    fileOffset: stream.fileOffsetOf(streamOffset),
  });
  for (const [blockIndex, b] of main.ramblocks.entries()) {
    if (b.unannounced) continue;
    const m = b.mappedRam;
    const block: MappedRamBlock = {
      name: b.name,
      blockIndex,
      usedLength: b.usedLength,
      pageSize: m?.pageSize ?? pageSize,
      pages: 0,
      gpa: b.mrAddr,
      shared: !m,
      present: 0,
    };
    blocks.push(block);
    if (!m) {
      block.problem = 'shared (x-ignore-shared): its RAM is not in the file';
      sink.report(
        'mapped-ram.shared-block',
        `block "${b.name}" is ignored as shared (x-ignore-shared${b.mrAddr !== undefined ? `, GPA 0x${b.mrAddr.toString(16)}` : ''}): its RAM lives in the shared memory backend, not in this file; its image stays empty`,
        { stream: main.streamId },
      );
      continue;
    }
    block.bitmapStreamOffset = m.bitmapOffset;
    block.pagesStreamOffset = m.pagesOffset;
    block.bitmapFileOffset = stream.fileOffsetOf(m.bitmapOffset);
    block.pagesFileOffset = stream.fileOffsetOf(m.pagesOffset);
    const problem = checkMappedRamBlock({
      name: b.name,
      usedLength: b.usedLength,
      pageSize: m.pageSize,
      bitmapOffset: m.bitmapOffset,
      pagesOffset: m.pagesOffset,
      pagesFileOffset: block.pagesFileOffset,
      streamLength: stream.length,
      replayPageSize: pageSize,
    });
    if (problem) {
      block.problem = problem.message;
      sink.report(
        'mapped-ram.bad-header',
        `block "${b.name}": ${problem.message}; the block is not replayed`,
        at(m.bitmapOffset),
      );
      continue;
    }
    block.pages = Math.floor(b.usedLength / m.pageSize);
    const bitmap = await stream.read(m.bitmapOffset, m.bitmapOffset + bitmapBytes(block.pages));
    block.bitmap = bitmap;
    block.present = countBits(bitmap, block.pages);
  }
  const withBitmap = blocks.filter((b) => b.bitmap && b.pages > 0);
  const interrupted = withBitmap.length > 0 && withBitmap.every((b) => b.present === 0);
  if (interrupted) {
    sink.report(
      'mapped-ram.bitmap-empty',
      `every block's bitmap is all zero (${withBitmap.map((b) => `"${b.name}"`).join(', ')}): QEMU writes the bitmaps only at the end of a save (ram_save_complete), ` +
        `so this save was interrupted${main.complete ? ', or the guest RAM was entirely zero' : ' (the stream also stops before its end)'}; no page is taken from the page regions`,
      at(withBitmap[0].bitmapStreamOffset!),
    );
  }
  const wb: number[] = [];
  const wf: number[] = [];
  for (const b of blocks) {
    if (!b.bitmap) continue;
    for (let first = 0; first < b.pages; first += MAPPED_RAM_WINDOW_PAGES) {
      if (windowHasPage(b.bitmap, first, Math.min(b.pages, first + MAPPED_RAM_WINDOW_PAGES))) {
        wb.push(b.blockIndex);
        wf.push(first);
      }
    }
  }
  return {
    streamId: main.streamId,
    blocks,
    windowBlock: Int32Array.from(wb),
    windowFirstPage: Float64Array.from(wf),
    windows: wb.length,
    interrupted,
  };
}

/** BITS_TO_LONGS(pages) * sizeof(unsigned long) on a 64-bit host. */
export function bitmapBytes(pages: number): number {
  return Math.ceil(pages / 64) * 8;
}

function windowHasPage(bitmap: Uint8Array, from: number, to: number): boolean {
  for (let p = from; p < to;) {
    if ((p & 7) === 0 && p + 8 <= to) {
      if (bitmap[p >>> 3]) return true;
      p += 8;
    } else {
      if (pagePresent(bitmap, p)) return true;
      p++;
    }
  }
  return false;
}

/** Block and page offsets of replay window `w`: the present pages, in order. */
export function windowPages(index: MappedRamIndex, w: number): { block: MappedRamBlock; offsets: number[] } {
  const blockIndex = index.windowBlock[w];
  const block = index.blocks.find((b) => b.blockIndex === blockIndex)!;
  const first = index.windowFirstPage[w];
  const end = Math.min(block.pages, first + MAPPED_RAM_WINDOW_PAGES);
  const offsets: number[] = [];
  for (let p = first; p < end; p++) if (pagePresent(block.bitmap!, p)) offsets.push(p * block.pageSize);
  return { block, offsets };
}

/**
 * The present pages of window `w`, read in place: one read per run of adjacent present pages. Returns the
 * offsets and their bytes packed in the same order (what the replay engine applies).
 */
export async function readWindow(
  index: MappedRamIndex,
  stream: StreamBytes,
  w: number,
): Promise<{ block: MappedRamBlock; offsets: number[]; data: Uint8Array }> {
  const { block, offsets } = windowPages(index, w);
  const ps = block.pageSize;
  const data = new Uint8Array(offsets.length * ps);
  let i = 0;
  while (i < offsets.length) {
    let j = i + 1;
    while (j < offsets.length && offsets[j] === offsets[j - 1] + ps) j++;
    const from = block.pagesStreamOffset! + offsets[i];
    const bytes = await stream.read(from, from + (j - i) * ps);
    data.set(bytes, i * ps);
    if (bytes.length < (j - i) * ps) {
      const short = offsets[i] + Math.floor(bytes.length / ps) * ps;
      throw new MappedRamReadError(
        `block "${block.name}": page at offset 0x${short.toString(16)} is marked present but its slot (stream offset ${block.pagesStreamOffset! + short}) is past the end of the file`,
        block.pagesStreamOffset! + short,
      );
    }
    i = j;
  }
  return { block, offsets, data };
}

export class MappedRamReadError extends Error {
  constructor(
    message: string,
    readonly streamOffset: number,
  ) {
    super(message);
  }
}
