import type { CaptureAnalysis } from '../analysisTypes';
import { DiagnosticSink, type Diagnostic } from '../diagnostics/diagnostic';
import { compareWithReference, type CompareResult } from './compareImages';
import { extractDeviceState, type DeviceStateBlob } from './deviceState';
import { describeProvenance, type PageProvenance } from './provenance';
import { ReplayEngine, type ReplayEngineOptions } from './replayEngine';

export interface ReplayOptions extends ReplayEngineOptions {
  /** ramblock name → reference RAM image to compare with. */
  references?: Map<string, string>;
  onProgress?(done: number, total: number): void;
  signal?: AbortSignal;
}

export interface ReplayBlockResult {
  name: string;
  file: string;
  size: number;
  sizeSource: 'mem-size' | 'highest-offset';
  /** Pages written at least once (data or zero). */
  pagesWritten: number;
  /** Pages whose last write was a zero page. */
  zeroPages: number;
  neverWritten: number;
}

export interface ReplayResult {
  outDir: string;
  pageSize: number;
  blocks: ReplayBlockResult[];
  deviceState: DeviceStateBlob[];
  compare?: CompareResult[];
  /** Analysis diagnostics plus those raised while replaying. */
  diagnostics: Diagnostic[];
  steps: number;
  cancelled: boolean;
  /** Last writer of a page (valid until the next replay). */
  provenanceOf(block: string, offset: number): PageProvenance;
}

/**
 * Rebuilds what the destination QEMU would hold: one image file per ramblock, page provenance, device-state
 * blobs, and, with references, a page-by-page comparison.
 */
export async function replayCapture(analysis: CaptureAnalysis, options: ReplayOptions): Promise<ReplayResult> {
  const sink = new DiagnosticSink();
  for (const d of analysis.diagnostics) sink.add(d);
  const engine = await ReplayEngine.create(analysis, sink, options);
  let cancelled = false;
  try {
    const total = engine.length;
    let lastReport = 0;
    while (!engine.done) {
      if (options.signal?.aborted) {
        cancelled = true;
        break;
      }
      await engine.step();
      if (options.onProgress && (engine.position - lastReport >= 256 || engine.done)) {
        lastReport = engine.position;
        options.onProgress(engine.position, total);
      }
    }
    for (const [block, z] of engine.zeroDataPages) {
      sink.report('replay.zero-data-page', `${z.count} page(s) of ${block} travelled as data but are all zeros, although zero-page detection is on (first: offset 0x${z.first.offset.toString(16)})`, { stream: z.first.stream, packet: z.first.packet });
    }
  } finally {
    await engine.close();
  }
  const blocks: ReplayBlockResult[] = [];
  for (const b of engine.images.values()) {
    const pages = Math.ceil(b.image.size / analysis.pageSize);
    let written = 0;
    let zero = 0;
    // Only touched pages are visited: a hostile MEM_SIZE of 2^50 bytes must not mean a loop over 2^38 pages.
    engine.provenance.forEachWritten(b.name, pages, (v) => {
      written++;
      if (v & 1) zero++;
    });
    blocks.push({ name: b.name, file: b.file, size: b.image.size, sizeSource: b.sizeSource, pagesWritten: written, zeroPages: zero, neverWritten: pages - written });
  }
  const deviceState = cancelled ? [] : await extractDeviceState(analysis, options.outDir, options.force ?? false);
  let compare: CompareResult[] | undefined;
  if (options.references?.size && !cancelled) {
    compare = [];
    for (const [block, ref] of options.references) {
      const b = engine.images.get(block);
      if (!b) {
        sink.report('replay.mismatch', `--reference ${block}: the capture has no ramblock of that name (blocks: ${[...engine.images.keys()].join(', ') || 'none'})`, {});
        continue;
      }
      const c = await compareWithReference(analysis, engine.provenance, block, b.file, ref);
      compare.push(c);
      if (c.imageSize !== c.referenceSize) sink.report('replay.mismatch', `${block}: rebuilt image is ${c.imageSize} bytes, reference ${ref} is ${c.referenceSize}`, {});
      if (c.mismatchedPages) {
        const first = c.ranges[0];
        sink.report('replay.mismatch', `${block}: ${c.mismatchedPages} page(s) differ from ${ref} in ${c.ranges.length} range(s); first at 0x${first.start.toString(16)}: ${first.writers[0]}`, { stream: first.provenance.stream, packet: first.provenance.packetIndex, record: first.provenance.record });
      }
    }
  }
  return {
    outDir: options.outDir,
    pageSize: analysis.pageSize,
    blocks,
    deviceState,
    compare,
    diagnostics: sink.items,
    steps: engine.position,
    cancelled,
    provenanceOf: (block, offset) => describeProvenance(analysis, engine.provenance.packed(block, offset)),
  };
}
