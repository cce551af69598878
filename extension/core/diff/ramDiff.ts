import { mkdtempSync, promises as fsp, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CaptureAnalysis } from '../analysisTypes';
import { countBySeverity } from '../diagnostics/diagnostic';
import { formatProvenance } from '../replay/provenance';
import { replayCapture, type ReplayOptions, type ReplayResult } from '../replay/replay';
import type { BlockRamDiff, PageDiff, RamDiff } from './diffTypes';

const CHUNK = 4 << 20;

export interface RamDiffOptions {
  /** Differing pages listed per block (all are counted). */
  maxPages?: number;
  /** Where the two replays' images go (a fresh folder under it, removed afterwards); the system's temp folder by default. */
  tempDir?: string;
  receiver?: ReplayOptions['receiver'];
  signal?: AbortSignal;
}

/**
 * Replays both captures (the replay engine, images in a temporary folder removed afterwards) and compares each
 * block both rebuilt, page by page; every differing page is named with its last writer in each capture.
 */
export async function diffRam(a: CaptureAnalysis, b: CaptureAnalysis, options: RamDiffOptions = {}): Promise<RamDiff> {
  const maxPages = options.maxPages ?? 10_000;
  const problems: string[] = [];
  if (a.pageSize !== b.pageSize)
    return {
      complete: false,
      blocks: [],
      unmatched: [],
      problems: [`page sizes differ (${a.pageSize}, ${b.pageSize}): pages cannot be matched`],
    };
  const dir = mkdtempSync(join(options.tempDir ?? tmpdir(), 'mfd-diff-'));
  try {
    const replay = async (x: CaptureAnalysis, side: string): Promise<ReplayResult> => {
      const r = await replayCapture(x, {
        outDir: join(dir, side),
        force: true,
        receiver: options.receiver,
        signal: options.signal,
      });
      if (!r.complete) problems.push(`${side}: replay incomplete: ${r.incomplete?.reason ?? 'stopped'}`);
      const errors = countBySeverity(r.diagnostics).error;
      if (errors) problems.push(`${side}: ${errors} error diagnostic(s) (mfd inspect / mfd replay name them)`);
      return r;
    };
    const ra = await replay(a, 'a');
    const rb = await replay(b, 'b');
    const blocksB = new Map(rb.blocks.map((x) => [x.name, x]));
    const blocks: BlockRamDiff[] = [];
    const unmatched: string[] = [];
    for (const x of ra.blocks) {
      const y = blocksB.get(x.name);
      if (!y) {
        unmatched.push(x.name);
        continue;
      }
      blocks.push(await compareBlock(x.name, x.file, y.file, a.pageSize, ra, rb, maxPages));
    }
    for (const y of rb.blocks) if (!ra.blocks.some((x) => x.name === y.name)) unmatched.push(y.name);
    blocks.sort(
      (p, q) => Number(q.pagesDiffering > 0) - Number(p.pagesDiffering > 0) || p.block.localeCompare(q.block),
    );
    return { complete: problems.length === 0, blocks, unmatched, problems };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function compareBlock(
  block: string,
  fileA: string,
  fileB: string,
  pageSize: number,
  ra: ReplayResult,
  rb: ReplayResult,
  maxPages: number,
): Promise<BlockRamDiff> {
  const [fa, fb] = await Promise.all([fsp.open(fileA, 'r'), fsp.open(fileB, 'r')]);
  try {
    const [sa, sb] = await Promise.all([fa.stat(), fb.stat()]);
    const size = Math.min(sa.size, sb.size);
    const out: BlockRamDiff = {
      block,
      sizeA: sa.size,
      sizeB: sb.size,
      pagesCompared: Math.ceil(size / pageSize),
      pagesDiffering: 0,
      pages: [],
    };
    const ba = Buffer.alloc(CHUNK);
    const bb = Buffer.alloc(CHUNK);
    for (let at = 0; at < size; at += CHUNK) {
      const n = Math.min(CHUNK, size - at);
      await Promise.all([fa.read(ba, 0, n, at), fb.read(bb, 0, n, at)]);
      for (let p = 0; p < n; p += pageSize) {
        const end = Math.min(n, p + pageSize);
        if (ba.compare(bb, p, end, p, end) === 0) continue;
        out.pagesDiffering++;
        if (out.pages.length < maxPages) out.pages.push(pageDiff(block, at + p, ra, rb));
      }
    }
    return out;
  } finally {
    await Promise.all([fa.close(), fb.close()]);
  }
}

function pageDiff(block: string, offset: number, ra: ReplayResult, rb: ReplayResult): PageDiff {
  const pa = ra.provenanceOf(block, offset);
  const pb = rb.provenanceOf(block, offset);
  return { offset, a: { ...pa, text: formatProvenance(pa) }, b: { ...pb, text: formatProvenance(pb) } };
}
