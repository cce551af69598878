import { promises as fsp } from 'node:fs';

/**
 * Guest RAM files: filled with known content before the source starts (QEMU maps the file with share=on, so
 * the guest sees it), read back after migration to compare the destination with the source byte for byte.
 */

export const PAGE = 4096;

export interface FillOptions {
  sizeBytes: number;
  seed: number;
  /** Share of pages that get non-zero content; the rest stay zero. */
  nonZeroFraction: number;
  /** Bytes at the start left zero (the BIOS and boot sector own the first MiB when the guest runs). */
  skipLowBytes?: number;
}

export interface FillSummary {
  pages: number;
  zero: number;
  random: number;
  patterned: number;
  oneByte: number;
}

/** mulberry32: a tiny seeded generator, so a given seed always gives the same RAM image. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/**
 * Writes the RAM image. Of the non-zero pages, 1/8 are random (incompressible), 5/8 a repeated text line
 * (compressible), 2/8 all zero except one byte (the edge case for zero-page detection).
 */
export async function fillRamFile(path: string, o: FillOptions): Promise<FillSummary> {
  const rand = prng(o.seed);
  const pages = Math.floor(o.sizeBytes / PAGE);
  const summary: FillSummary = { pages, zero: 0, random: 0, patterned: 0, oneByte: 0 };
  const chunkPages = 256;
  const fh = await fsp.open(path, 'w');
  try {
    await fh.truncate(o.sizeBytes);
    const chunk = new Uint8Array(chunkPages * PAGE);
    const words = new Uint32Array(chunk.buffer);
    const enc = new TextEncoder();
    for (let first = 0; first < pages; first += chunkPages) {
      const n = Math.min(chunkPages, pages - first);
      chunk.fill(0);
      let any = false;
      for (let i = 0; i < n; i++) {
        const page = first + i;
        const r = rand() / 2 ** 32;
        if (page * PAGE < (o.skipLowBytes ?? 0) || r >= o.nonZeroFraction) {
          summary.zero++;
          continue;
        }
        any = true;
        const kind = rand() % 8;
        const at = i * PAGE;
        if (kind === 0) {
          summary.random++;
          for (let w = at / 4; w < (at + PAGE) / 4; w++) words[w] = rand();
        } else if (kind <= 5) {
          summary.patterned++;
          const line = enc.encode(`mfd page ${page.toString(16).padStart(6, '0')} ${kind}\n`.padEnd(32, '.'));
          for (let p = 0; p < PAGE; p += line.length)
            chunk.set(line.subarray(0, Math.min(line.length, PAGE - p)), at + p);
        } else {
          summary.oneByte++;
          chunk[at + (rand() % PAGE)] = 1 + (rand() % 255);
        }
      }
      // Zero chunks stay holes in the (sparse) file.
      if (any) await fh.write(chunk, 0, n * PAGE, first * PAGE);
    }
    // On disk before QEMU starts: otherwise its writeback competes with the migration being measured.
    await fh.datasync();
  } finally {
    await fh.close();
  }
  return summary;
}

/** A fresh all-zero RAM file, as QEMU's destination expects its RAM to start. */
export async function createZeroRamFile(path: string, sizeBytes: number): Promise<void> {
  const fh = await fsp.open(path, 'w');
  await fh.truncate(sizeBytes);
  await fh.close();
}

export interface RamComparison {
  equal: boolean;
  sizeA: number;
  sizeB: number;
  differingPages: number;
  firstDifferingOffset?: number;
}

export async function compareRamFiles(a: string, b: string): Promise<RamComparison> {
  const [fa, fb] = await Promise.all([fsp.open(a, 'r'), fsp.open(b, 'r')]);
  try {
    const [sa, sb] = await Promise.all([fa.stat(), fb.stat()]);
    const result: RamComparison = { equal: sa.size === sb.size, sizeA: sa.size, sizeB: sb.size, differingPages: 0 };
    const size = Math.min(sa.size, sb.size);
    const len = 4 << 20;
    const ba = Buffer.alloc(len);
    const bb = Buffer.alloc(len);
    for (let pos = 0; pos < size; pos += len) {
      const n = Math.min(len, size - pos);
      await Promise.all([fa.read(ba, 0, n, pos), fb.read(bb, 0, n, pos)]);
      if (ba.subarray(0, n).equals(bb.subarray(0, n))) continue;
      for (let p = 0; p < n; p += PAGE) {
        if (ba.subarray(p, p + PAGE).equals(bb.subarray(p, p + PAGE))) continue;
        result.equal = false;
        result.differingPages++;
        result.firstDifferingOffset ??= pos + p;
      }
    }
    return result;
  } finally {
    await Promise.all([fa.close(), fb.close()]);
  }
}

/** Reads the live guest's marker: its tick counter, or undefined until the guest has run. */
export async function readGuestMarker(path: string, address: number, marker: number): Promise<number | undefined> {
  const fh = await fsp.open(path, 'r');
  try {
    const b = Buffer.alloc(8);
    await fh.read(b, 0, 8, address);
    return b.readUInt32LE(0) === marker ? b.readUInt32LE(4) : undefined;
  } finally {
    await fh.close();
  }
}
