import { promises as fsp } from 'node:fs';
import type { CaptureAnalysis } from '../analysisTypes';
import { describeProvenance, formatProvenance, type PageProvenance, type ProvenanceMap } from './provenance';

export interface MismatchRange {
  /** Byte offsets in the block, [start, end). */
  start: number;
  end: number;
  pages: number;
  /** The last writer of the range's first page. */
  provenance: PageProvenance;
  /** Distinct last writers within the range (up to a few), for "why is this page wrong". */
  writers: string[];
}

export interface CompareResult {
  block: string;
  image: string;
  reference: string;
  imageSize: number;
  referenceSize: number;
  pagesCompared: number;
  mismatchedPages: number;
  ranges: MismatchRange[];
}

/** A file changed under the comparison: its result would be wrong, so there is none. */
export class CompareError extends Error {}

const CHUNK = 4 << 20;
const MAX_RANGES = 10_000;

/**
 * Compares a rebuilt block with a reference image (a destination or source RAM file) page by page, reading
 * both in chunks, and groups mismatching pages into ranges of adjacent pages that share a last writer.
 */
export async function compareWithReference(
  analysis: CaptureAnalysis,
  provenance: ProvenanceMap,
  block: string,
  imagePath: string,
  referencePath: string,
): Promise<CompareResult> {
  const ps = analysis.pageSize;
  const [a, b] = await Promise.all([fsp.open(imagePath, 'r'), fsp.open(referencePath, 'r')]);
  try {
    const [sa, sb] = await Promise.all([a.stat(), b.stat()]);
    const size = Math.min(sa.size, sb.size);
    const result: CompareResult = {
      block,
      image: imagePath,
      reference: referencePath,
      imageSize: sa.size,
      referenceSize: sb.size,
      pagesCompared: Math.ceil(size / ps),
      mismatchedPages: 0,
      ranges: [],
    };
    const ba = new Uint8Array(CHUNK);
    const bb = new Uint8Array(CHUNK);
    let current: (MismatchRange & { packed: number }) | undefined;
    const flush = () => {
      if (current && result.ranges.length < MAX_RANGES) {
        const { packed: _p, ...range } = current;
        result.ranges.push(range);
      }
      current = undefined;
    };
    for (let pos = 0; pos < size; pos += CHUNK) {
      const n = Math.min(CHUNK, size - pos);
      const [ra, rb] = await Promise.all([a.read(ba, 0, n, pos), b.read(bb, 0, n, pos)]);
      // A file that shrank while compared would leave the previous chunk's bytes in the buffer: never compare those.
      for (const [r, path, had] of [
        [ra, imagePath, sa.size],
        [rb, referencePath, sb.size],
      ] as const) {
        if (r.bytesRead < n)
          throw new CompareError(
            `${path} ended at byte ${pos + r.bytesRead} while it was compared (it had ${had} bytes)`,
          );
      }
      const va = Buffer.from(ba.buffer, 0, n);
      const vb = Buffer.from(bb.buffer, 0, n);
      if (va.equals(vb)) {
        flush();
        continue;
      }
      for (let off = 0; off < n; off += ps) {
        const len = Math.min(ps, n - off);
        const same = va.compare(vb, off, off + len, off, off + len) === 0;
        const at = pos + off;
        if (same) {
          flush();
          continue;
        }
        result.mismatchedPages++;
        const packed = provenance.packed(block, at);
        if (current && current.end === at && current.packed === packed) {
          current.end = at + len;
          current.pages++;
        } else {
          flush();
          const p = describeProvenance(analysis, packed);
          current = { start: at, end: at + len, pages: 1, provenance: p, writers: [formatProvenance(p)], packed };
        }
      }
    }
    flush();
    return result;
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
}
