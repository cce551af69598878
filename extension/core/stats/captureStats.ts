import type { CaptureAnalysis } from '../analysisTypes';
import { buildSectionList } from '../mainchannel/sectionList';
import { readPageRequests } from '../postcopy/pageRequestsOfCapture';
import { epochStats } from './epochStats';
import { derivedStats, mainPhases } from './mainPhases';
import { chooseAxis, mergeBins } from './statsAxis';
import { streamFigures } from './streamStats';
import type { CaptureStats, PageRequestMarker, Phase, ReturnPathMarker, StatsSeries } from './statsTypes';

export interface StatsOptions {
  /** Bin width in axis units (ns on the time axis, bytes on the byte axis); about 1/100 of the capture by default. */
  binWidth?: number;
  /** Most points per lane in `series` (drawing only). */
  maxPoints?: number;
}

const DEFAULT_POINTS = 500;

/**
 * The figures `mfd stats` prints and a timeline draws: per stream, per epoch, the main channel's phases and
 * what derives from them. Everything is read from the analysis (packet tables, record table, section list,
 * replay schedule); no stream is parsed again.
 */
export async function buildCaptureStats(analysis: CaptureAnalysis, options: StatsOptions = {}): Promise<CaptureStats> {
  const choice = chooseAxis(analysis, options.binWidth);
  const { axis, x } = choice;
  const figures = analysis.streams.map((s) => streamFigures(analysis, s, choice));
  const notes: string[] = [];
  const epochs = await epochStats(analysis, x);
  notes.push(...epochs.notes);

  let phases: Phase[] = [];
  const main = analysis.main;
  const list = main ? await buildSectionList(analysis) : undefined;
  if (main && list) {
    const stream = analysis.streams.find((s) => s.id === main.streamId)!.stream.toDestination;
    const p = mainPhases(list, main, stream, x);
    phases = p.phases;
    notes.push(...p.notes);
  } else notes.push('no main channel: no phases, no downtime');

  // The return path's times are the recorder's too; without times there is nothing to place them by.
  const returnPath: ReturnPathMarker[] =
    axis.kind === 'time'
      ? (list?.returnPath.messages ?? []).flatMap((m) =>
          m.timeNs === undefined ? [] : [{ name: m.name, at: m.timeNs }],
        )
      : [];
  const requests = await readPageRequests(analysis);
  const pageRequests: PageRequestMarker[] = (requests?.requests ?? []).map((r) => {
    const latencies = r.pages.flatMap((p) => (p.latencyMs === undefined ? [] : [p.latencyMs]));
    return {
      ...(axis.kind === 'time' && r.timeNs !== undefined ? { at: r.timeNs } : {}),
      ramblock: r.ramblock,
      start: r.start,
      length: r.length,
      pages: r.pages.length,
      answered: r.pages.filter((p) => p.status === 'answered').length,
      ...(latencies.length ? { maxLatencyMs: Math.max(...latencies) } : {}),
    };
  });

  const firsts = figures.flatMap((f) => (f.stats.first === undefined ? [] : [f.stats.first]));
  const lasts = figures.flatMap((f) => (f.stats.last === undefined ? [] : [f.stats.last]));
  const first = firsts.length ? Math.min(...firsts) : 0;
  const last = lasts.length ? Math.max(...lasts) : 0;
  const derived = derivedStats(phases, epochs.epochs, first, last, axis.kind === 'time');

  const holes = analysis.streams.filter((s) => s.stream.toDestination.holes().length > 0).map((s) => s.id);
  if (holes.length)
    notes.push(
      `stream(s) ${holes.join(', ')} have holes: bytes count the stream's length, bins only the bytes present`,
    );

  const maxPoints = Math.max(1, options.maxPoints ?? DEFAULT_POINTS);
  const binsPerPoint = Math.ceil(axis.bins / maxPoints);
  const series: StatsSeries = {
    start: axis.start,
    pointWidth: axis.binWidth * binsPerPoint,
    binsPerPoint,
    points: Math.ceil(axis.bins / binsPerPoint),
    lanes: figures.map((f) => ({
      stream: f.stats.id,
      bytes: mergeBins(f.bytesPerBin, binsPerPoint),
      packets: mergeBins(f.packetsPerBin, binsPerPoint),
    })),
  };
  return {
    file: analysis.capture.path,
    pageSize: analysis.pageSize,
    axis,
    streams: figures.map((f) => f.stats),
    epochs: epochs.epochs,
    phases,
    derived,
    series,
    returnPath,
    pageRequests,
    notes,
  };
}
