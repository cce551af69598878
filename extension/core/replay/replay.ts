import type { CaptureAnalysis } from '../analysisTypes';
import { DiagnosticSink, type Diagnostic } from '../diagnostics/diagnostic';
import { CaptureEndedError } from '../capture/captureEnded';
import { CompareError, compareWithReference, type CompareResult } from './compareImages';
import { extractDeviceState, planDeviceState, type DeviceStateBlob } from './deviceState';
import { imageFileNames } from './imageNames';
import { OutputFolder, refuseOutputsThatAreInputs } from './outputFolder';
import { ImageWriteError } from './ramImage';
import { insideFolder } from './safeFileName';
import { describeProvenance, type PageProvenance } from './provenance';
import { ReplayEngine, type ReplayEngineOptions } from './replayEngine';
import { WriterKind } from './schedule';
import { readCommandAt } from '../mainchannel/commandArguments';
import { MIG_CMD_POSTCOPY_RAM_DISCARD, QEMU_VM_COMMAND } from '../mainchannel/constants';
import { describePages, lostPacketRanges, type LostPacketRange, type LostPage } from './lostPages';

export interface ReplayOptions extends ReplayEngineOptions {
  /** ramblock name → reference RAM image to compare with. */
  references?: Map<string, string>;
  onProgress?(done: number, total: number): void;
  /** Stops the replay between two steps; its reason (e.g. 'SIGINT') is reported. The output is marked incomplete. */
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
  /** True when every step was applied and every output written. */
  complete: boolean;
  /** Why not, and the marker file left in the output folder saying so. */
  incomplete?: { reason: string; marker: string };
  /**
   * What holes in the capture kept replay from rebuilding: data pages named by block and offset (at most
   * 4096 listed; `pages` counts them all), and packets lost whole, whose pages are unknown.
   */
  lost?: { pages: number; listed: LostPage[]; packets: LostPacketRange[] };
  /** Last writer of a page (valid until the next replay). */
  provenanceOf(block: string, offset: number): PageProvenance;
}

/**
 * Rebuilds what the destination QEMU would hold: one image file per ramblock, page provenance, device-state
 * blobs, and, with references, a page-by-page comparison.
 */
export async function replayCapture(analysis: CaptureAnalysis, options: ReplayOptions): Promise<ReplayResult> {
  const capturePath = analysis.capture.path;
  const folder = OutputFolder.claim(options.outDir, capturePath);
  try {
    return await replayInto(folder, analysis, options);
  } finally {
    folder.release();
  }
}

async function replayInto(
  folder: OutputFolder,
  analysis: CaptureAnalysis,
  options: ReplayOptions,
): Promise<ReplayResult> {
  const sink = new DiagnosticSink();
  for (const d of analysis.diagnostics) sink.add(d);
  const devicePlan = planDeviceState(analysis, options.outDir);
  const names = imageFileNames(analysis);
  refuseOutputsThatAreInputs(
    [...[...names.values()].map((n) => insideFolder(options.outDir, n)), ...devicePlan.map((g) => g.file)],
    [
      { role: 'capture', path: analysis.capture.path },
      ...[...(options.references ?? new Map<string, string>())].map(([block, path]) => ({
        role: `reference for ${block}`,
        path,
      })),
    ],
  );
  // From the first image on, the folder says it holds no finished replay until the end says otherwise.
  folder.markIncomplete('replay running (or killed while running)', analysis.capture.path);
  let engine: ReplayEngine;
  try {
    engine = await ReplayEngine.create(analysis, sink, options);
  } catch (e) {
    // Refused before writing anything of its own (existing images without --force): nothing to mark.
    if ((e as { code?: string }).code === 'EEXIST') folder.markComplete();
    throw e;
  }
  let cancelled = false;
  let incomplete: string | undefined;
  const stop = (e: unknown, stream?: number): void => {
    if (e instanceof CaptureEndedError) {
      incomplete = `${stream !== undefined ? `stream ${stream}: ` : ''}${e.message}`;
      sink.report(
        'replay.capture-ended',
        `${incomplete}; replay stopped there, later packets and records are not applied`,
        { stream, streamOffset: e.streamOffset, fileOffset: e.fileOffset },
      );
    } else if (e instanceof ImageWriteError) {
      incomplete = e.message;
      sink.report('replay.write-failed', `${e.message}; replay stopped, the output is incomplete`, {});
    } else throw e;
  };
  try {
    const total = engine.length;
    let lastReport = 0;
    while (!engine.done) {
      if (options.signal?.aborted) {
        cancelled = true;
        const why = options.signal.reason;
        incomplete = `interrupted${typeof why === 'string' ? ` by ${why}` : ''} after ${engine.position} of ${total} steps`;
        sink.report('replay.interrupted', `replay ${incomplete}; the output is incomplete`, {});
        break;
      }
      try {
        await engine.step();
      } catch (e) {
        stop(e, streamOfStep(analysis, engine.position - 1));
        break;
      }
      if (engine.position - lastReport >= 256 || engine.done) {
        lastReport = engine.position;
        options.onProgress?.(engine.position, total);
        // Steps resolve as microtasks: without a turn of the event loop, a signal would wait for the end.
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    for (const [block, z] of engine.zeroDataPages) {
      sink.report(
        'replay.zero-data-page',
        `${z.count} page(s) of ${block} travelled as data but are all zeros, although zero-page detection is on (first: offset 0x${z.first.offset.toString(16)})`,
        { stream: z.first.stream, packet: z.first.packet },
      );
    }
  } finally {
    await engine.close();
  }
  const lost = reportLost(analysis, engine, sink);
  if (!incomplete && analysis.diagnostics.some((d) => d.code === 'main.record-limit')) {
    sink.report(
      'replay.incomplete-index',
      "the main channel's index stopped at its record limit, so RAM records after it are not replayed",
      { stream: analysis.main?.streamId },
    );
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
    blocks.push({
      name: b.name,
      file: b.file,
      size: b.image.size,
      sizeSource: b.sizeSource,
      pagesWritten: written,
      zeroPages: zero,
      neverWritten: pages - written,
    });
  }
  await reportPostcopyUnsent(analysis, engine, blocks, sink);
  let deviceState: DeviceStateBlob[] = [];
  if (!incomplete) {
    try {
      deviceState = await extractDeviceState(analysis, options.outDir, options.force ?? false, devicePlan);
    } catch (e) {
      stop(e);
    }
  }
  let compare: CompareResult[] | undefined;
  if (options.references?.size && !incomplete) {
    compare = [];
    for (const [block, ref] of options.references) {
      const b = engine.images.get(block);
      if (!b) {
        sink.report(
          'replay.mismatch',
          `--reference ${block}: the capture has no ramblock of that name (blocks: ${[...engine.images.keys()].join(', ') || 'none'})`,
          {},
        );
        continue;
      }
      let c: CompareResult;
      try {
        c = await compareWithReference(analysis, engine.provenance, block, b.file, ref);
      } catch (e) {
        if (!(e instanceof CompareError)) throw e;
        sink.report('replay.mismatch', `${block}: no comparison with ${ref}: ${e.message}`, {});
        continue;
      }
      compare.push(c);
      if (c.imageSize !== c.referenceSize)
        sink.report(
          'replay.mismatch',
          `${block}: rebuilt image is ${c.imageSize} bytes, reference ${ref} is ${c.referenceSize}`,
          {},
        );
      if (c.mismatchedPages) {
        const first = c.ranges[0];
        sink.report(
          'replay.mismatch',
          `${block}: ${c.mismatchedPages} page(s) differ from ${ref} in ${c.ranges.length} range(s); first at 0x${first.start.toString(16)}: ${first.writers[0]}`,
          { stream: first.provenance.stream, packet: first.provenance.packetIndex, record: first.provenance.record },
        );
      }
    }
  }
  if (incomplete) folder.markIncomplete(incomplete, analysis.capture.path);
  else folder.markComplete();
  return {
    outDir: options.outDir,
    pageSize: analysis.pageSize,
    blocks,
    deviceState,
    compare,
    diagnostics: sink.items,
    steps: engine.position,
    cancelled,
    complete: !incomplete,
    incomplete: incomplete ? { reason: incomplete, marker: folder.markerPath } : undefined,
    lost,
    provenanceOf: (block, offset) => describeProvenance(analysis, engine.provenance.packed(block, offset)),
  };
}

/** Names, as errors, the pages holes in the capture kept from being rebuilt. */
function reportLost(analysis: CaptureAnalysis, engine: ReplayEngine, sink: DiagnosticSink): ReplayResult['lost'] {
  const pages = engine.lost.unrebuilt(engine.provenance);
  const packets = lostPacketRanges(analysis);
  if (pages.length === 0 && engine.lost.untracked === 0 && packets.length === 0) return undefined;
  if (pages.length || engine.lost.untracked) {
    const first = pages[0];
    sink.report(
      'replay.pages-lost',
      `${pages.length + engine.lost.untracked} page(s) could not be rebuilt: their data is in a hole in the capture and no later write replaced them, so the image holds an older value or nothing there: ${describePages(pages, analysis.pageSize)}${engine.lost.untracked ? ` (${engine.lost.untracked} more not listed)` : ''}`,
      first ? { stream: first.stream, packet: first.packet } : {},
    );
  }
  for (const p of packets)
    sink.report(
      'replay.pages-lost',
      p.beforePacketNum === undefined
        ? `stream ${p.stream} (channel ${p.channel ?? '?'}): packets after packet_num ${p.afterPacketNum} were lost in the hole at stream offset ${p.holeOffset} and what follows it; the pages they carried are unknown`
        : `stream ${p.stream} (channel ${p.channel ?? '?'}): packets between packet_num ${p.afterPacketNum} and ${p.beforePacketNum} of channel ${p.channel ?? '?'} were lost in the hole at stream offset ${p.holeOffset} (${p.missing} packet_num value(s) in between are on no channel); the pages they carried are unknown, so any page may hold an older value${p.syncRounds ? `; other channels sent ${p.syncRounds} SYNC(s) in that range, so this channel's SYNC for them was likely lost and its later packets are ordered ${p.syncRounds} epoch(s) early` : ''}`,
      { stream: p.stream, streamOffset: p.holeOffset },
    );
  return { pages: pages.length + engine.lost.untracked, listed: pages.slice(0, 4096), packets };
}

function streamOfStep(analysis: CaptureAnalysis, i: number): number | undefined {
  const s = analysis.schedule;
  if (s.kind[i] === WriterKind.Multifd) return analysis.multifd[s.source[i]]?.streamId;
  if (s.kind[i] === WriterKind.Preempt) return analysis.postcopy?.preempt?.streamId;
  return analysis.main?.streamId;
}

/**
 * A capture cut inside postcopy (postcopy.incomplete): the destination holds nothing for the pages never sent
 * before the cut, nor for pages the source discarded at the switch (POSTCOPY_RAM_DISCARD: dirtied since they were
 * sent, so unpopulated until postcopy sends them again) that did not come again before the cut. Named by their
 * number per ramblock.
 */
async function reportPostcopyUnsent(
  analysis: CaptureAnalysis,
  engine: ReplayEngine,
  blocks: ReplayBlockResult[],
  sink: DiagnosticSink,
): Promise<void> {
  const cut = analysis.diagnostics.find((d) => d.code === 'postcopy.incomplete');
  if (!cut) return;
  const ps = analysis.pageSize;
  const missing = new Map<string, number>(blocks.map((b) => [b.name, b.neverWritten]));
  const start = analysis.schedule.postcopyStart ?? Infinity;
  const main = analysis.main;
  const stream = main && analysis.capture.streams.find((x) => x.id === main.streamId)?.toDestination;
  for (const e of main && stream ? main.sections : []) {
    if (e.type !== QEMU_VM_COMMAND || e.id !== MIG_CMD_POSTCOPY_RAM_DISCARD) continue;
    const c = await readCommandAt(stream!, e.streamOffset);
    const block = blocks.find((b) => b.name === c.arguments.ramblock);
    if (!block || !Array.isArray(c.arguments.ranges)) continue;
    const pages = Math.ceil(block.size / ps);
    for (const r of c.arguments.ranges) {
      const first = Number(r.start / BigInt(ps));
      const end = Math.min(pages, Number((r.start + r.length + BigInt(ps - 1)) / BigInt(ps)));
      for (let p = first; p < end; p++) {
        const w = engine.provenance.packed(block.name, p * ps);
        // Never written is counted already; written before the switch only: discarded and not sent again.
        if (w >= 0 && w >>> 1 < start) missing.set(block.name, (missing.get(block.name) ?? 0) + 1);
      }
    }
  }
  const per = blocks
    .filter((b) => (missing.get(b.name) ?? 0) > 0)
    .map((b) => `${b.name} ${missing.get(b.name)} of ${Math.ceil(b.size / ps)}`);
  const total = [...missing.values()].reduce((n, k) => n + k, 0);
  sink.report(
    'replay.postcopy-unsent',
    total > 0
      ? `the capture ends inside postcopy (stream ${cut.location.stream}, stream offset ${cut.location.streamOffset}): ${total} page(s) were not sent (or were discarded at the switch and not sent again) before the cut: the destination has nothing there (the image holds zeros, or what precopy sent before the discard): ${per.join(', ')}`
      : `the capture ends before postcopy completed (stream ${cut.location.stream}, stream offset ${cut.location.streamOffset}): every page was sent at least once before the cut, but the migration's end is missing`,
    { stream: cut.location.stream, streamOffset: cut.location.streamOffset },
  );
}
