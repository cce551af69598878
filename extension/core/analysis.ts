import { openCapture } from './capture/openCapture';
import type { Capture } from './capture/capture';
import { DiagnosticSink } from './diagnostics/diagnostic';
import { runCrossChecks } from './diagnostics/crossChecks';
import { lintKnownReleaseBugs } from './diagnostics/knownReleaseBugs';
import { indexMultifdStream, type MultifdStreamIndex } from './multifd/indexMultifdStream';
import { probeMultifdPageSize } from './multifd/pageSizeProbe';
import { METHOD_BY_VALUE } from './multifd/constants';
import { HINTS, versionRange, type VersionHint } from './multifd/versionHints';
import { indexMainChannel, readMainChannelPageSize, type MainChannelIndex } from './mainchannel/mainChannelIndex';
import { buildSchedule } from './replay/schedule';
import { withMappedRam } from './replay/mappedRamSchedule';
import { withPostcopyOrder } from './replay/postcopySchedule';
import { capturedWithTimes } from './postcopy/pageRequestsOfCapture';
import { checkPostcopyCompletion } from './postcopy/postcopyCompletion';
import { indexMappedRam, isMappedRam } from './capture/mappedRam/mappedRamIndex';
import type { AnalyzeOptions, CaptureAnalysis, PageSizeSource, StreamAnalysis, StreamKind } from './analysisTypes';
import { StringTable } from './util/growableArrays';
import { hex } from './util/bytes';
import { MAIN_STREAM_MAGIC, MULTIFD_STREAM_MAGIC, streamKindOf } from './layout/streamMagic';
import { metaPageSize } from './pageSizeCheck';
import {
  classifyNoMagicStreams,
  indexPreemptChannel,
  postcopyAdvised,
  type PreemptChannelIndex,
} from './postcopy/preemptChannel';

export type { AnalyzeOptions, CaptureAnalysis, PageSizeSource, StreamAnalysis, StreamKind } from './analysisTypes';
export { sourceBytes } from './analysisTypes';

export async function analyzeCaptureFile(path: string, options: AnalyzeOptions = {}): Promise<CaptureAnalysis> {
  return analyzeCapture(await openCapture(path, options.open), options);
}

function classify(first: Uint8Array): StreamKind {
  if (first.length === 0) return 'empty';
  return streamKindOf(first) ?? 'unknown';
}

function parameters(meta: Record<string, unknown>): Record<string, unknown> {
  const p = meta.parameters;
  return p && typeof p === 'object' ? (p as Record<string, unknown>) : {};
}

/**
 * Classifies each stream by its first bytes (as QEMU's destination does since 8.0), settles the page size,
 * indexes the main channel (ramblock sizes, RAM records, sync markers), then every multifd stream, builds the
 * replay schedule (the order the destination applies page writes), then runs the cross-stream lints on it.
 */
export async function analyzeCapture(capture: Capture, options: AnalyzeOptions = {}): Promise<CaptureAnalysis> {
  const sink = new DiagnosticSink();
  for (const d of capture.diagnostics) sink.add(d);
  const names = new StringTable();
  const params = parameters(capture.meta);

  const streams: StreamAnalysis[] = [];
  for (const s of capture.streams) {
    const first = await s.toDestination.read(0, 4);
    const kind = classify(first);
    streams.push({ id: s.id, kind, stream: s });
  }
  // Page size: an explicit option, then the capture's META, then the main channel, then the multifd framing.
  const found: { size: number; source: PageSizeSource }[] = [];
  if (options.pageSize) found.push({ size: options.pageSize, source: 'option' });
  const metaPs = metaPageSize(capture, sink);
  if (metaPs !== undefined) found.push({ size: metaPs, source: 'meta' });
  const mainStreams = streams.filter((s) => s.kind === 'main');
  for (const s of mainStreams) {
    const r = await readMainChannelPageSize(s.stream.toDestination);
    if (r.pageSize && r.source) found.push({ size: r.pageSize, source: r.source });
  }
  for (const s of streams.filter((x) => x.kind === 'multifd')) {
    const r = await probeMultifdPageSize(s.stream.toDestination);
    if (r) {
      found.push({ size: r.pageSize, source: 'multifd' });
      break;
    }
  }
  const chosen = found[0] ?? { size: 4096, source: 'default' as const };
  if (!found.length && streams.some((s) => s.kind === 'multifd'))
    sink.report(
      'multifd.page-size-unknown',
      'the target page size could not be inferred from the capture; 4096 is assumed (set it with --page-size)',
      {},
    );
  const conflict = found.find((f) => f.size !== chosen.size && f.source !== 'option');
  if (conflict && chosen.source !== 'option')
    sink.report(
      'multifd.page-size-conflict',
      `page size ${chosen.size} (from ${chosen.source}) but ${conflict.source} says ${conflict.size}`,
      {},
    );
  const pageSize = chosen.size;

  let main: MainChannelIndex | undefined;
  for (const s of mainStreams) {
    s.main = await indexMainChannel(s.stream.toDestination, s.id, pageSize, sink);
    main ??= s.main;
  }

  const preempt = await classifyAndIndexNoMagic(streams, main, pageSize, sink);

  const ramblocks = main?.ramblocks ?? [];
  const blockSizes =
    main && main.ramblocks.length ? new Map(main.ramblocks.map((b) => [b.name, b.usedLength])) : undefined;
  const metaMethod =
    typeof params['multifd-compression'] === 'string' ? (params['multifd-compression'] as string) : undefined;
  const expectedMethod = Object.values(METHOD_BY_VALUE).find((m) => m === metaMethod);
  const multifd: MultifdStreamIndex[] = [];
  for (const s of streams.filter((x) => x.kind === 'multifd')) {
    s.multifd = await indexMultifdStream(s.stream.toDestination, s.id, {
      pageSize,
      ramblocks: blockSizes,
      expectedMethod,
      names,
      sink,
    });
    multifd.push(s.multifd);
  }
  if (multifd.length && !main)
    sink.report(
      'multifd.no-main-channel',
      'no main channel in this capture: ramblock sizes are unknown, so offsets are checked for alignment only and replay sizes images by the highest offset seen',
      {},
    );

  const hints: VersionHint[] = multifd.flatMap((m) => m.hints);
  if (main && main.flushCount > 0) hints.push(HINTS.multifdFlush);
  const versionHint = versionRange(hints);
  const oldSender = versionHint.atMost !== undefined && versionHint.atMost[0] * 100 + versionHint.atMost[1] <= 802;
  const channels = Number(params['multifd-channels']);
  // mapped-ram: pages at fixed file offsets, found through each block's bitmap, read in place by replay.
  const mainStream = main && capture.streams.find((x) => x.id === main.streamId)?.toDestination;
  const mappedRam =
    main && mainStream && isMappedRam(main) ? await indexMappedRam(main, mainStream, pageSize, sink) : undefined;
  const precopy = mappedRam ? withMappedRam(buildSchedule(multifd, main), mappedRam) : buildSchedule(multifd, main);
  const schedule =
    main && mainStream
      ? withPostcopyOrder(precopy, {
          main,
          mainStream,
          preempt,
          preemptStream: preempt && capture.streams.find((x) => x.id === preempt.streamId)?.toDestination,
          pageSize,
          timed: capturedWithTimes({ capture }),
          sink,
        })
      : precopy;
  if (main && mainStream)
    await checkPostcopyCompletion({
      main,
      mainStream,
      preempt,
      preemptStream: preempt && capture.streams.find((x) => x.id === preempt.streamId)?.toDestination,
      sink,
    });
  await runCrossChecks({
    multifd,
    schedule,
    streams: new Map(capture.streams.map((s) => [s.id, s])),
    main,
    pageSize,
    channels: Number.isInteger(channels) && channels > 0 ? channels : undefined,
    oldSender,
    sink,
  });
  await lintKnownReleaseBugs({
    multifd,
    streams: new Map(capture.streams.map((s) => [s.id, s])),
    main,
    schedule,
    pageSize,
    versionHint,
    sink,
  });
  const compression = expectedMethod ?? multifd.find((m) => m.method)?.method;
  return {
    capture,
    pageSize,
    pageSizeSource: chosen.source,
    streams,
    main,
    multifd,
    ramblocks,
    compression,
    versionHint,
    mappedRam,
    ...(preempt ? { postcopy: { preempt } } : {}),
    schedule,
    names,
    diagnostics: sink.items,
    diagnosticTotals: sink.counts(),
  };
}

/**
 * Streams without magic: the postcopy preempt channel is indexed (kind 'preempt'); any other one is an error, since
 * bytes that may carry pages (a postcopy recovery's reconnection, a TLS channel) are not decoded, so no replay or
 * report looks complete without them.
 */
async function classifyAndIndexNoMagic(
  streams: StreamAnalysis[],
  main: MainChannelIndex | undefined,
  pageSize: number,
  sink: DiagnosticSink,
): Promise<PreemptChannelIndex | undefined> {
  const verdicts = classifyNoMagicStreams(
    streams.map((s) => s.kind),
    postcopyAdvised(main),
  );
  let preempt: PreemptChannelIndex | undefined;
  for (const [i, v] of verdicts) {
    const s = streams[i];
    const bytes = s.stream.toDestination;
    if (v.preempt && main) {
      s.kind = 'preempt';
      s.preempt = await indexPreemptChannel(bytes, s.id, main, pageSize, sink);
      preempt = s.preempt;
      continue;
    }
    const first = await bytes.read(0, 4);
    sink.report(
      'stream.unknown-kind',
      `stream ${s.id} starts with ${hex(first, 4)}: neither ${MAIN_STREAM_MAGIC.shown} (main channel) nor ${MULTIFD_STREAM_MAGIC.shown} (multifd), and not the postcopy preempt channel (${v.preempt ? 'no main channel' : v.why}); its ${bytes.length} bytes are not decoded, so what replay rebuilds lacks whatever they carry`,
      { stream: s.id, streamOffset: 0, fileOffset: bytes.fileOffsetOf(0) },
    );
  }
  return preempt;
}
