import type { CaptureAnalysis } from '../../core/analysisTypes';
import { buildCaptureReport } from '../../core/captureReport';
import type { PageRequestsSummaryInfo, SummaryInfo } from '../../shared/protocol';
import type { PageRequestsReport } from '../../core/postcopy/pageRequests';
import { inputLabel, migrationLabel } from './inputLabel';
import { qemuVersionText, recordedSetup } from '../../core/recordedSetup';
import type { PacketIndex } from './packetIndex';

/** The summary bar's content: the capture report's figures, plus what the editor adds (trust, ramblocks named by packets). */
export function captureSummary(
  analysis: CaptureAnalysis,
  packets: PacketIndex,
  fileName: string,
  trusted: boolean,
  pageRequests?: PageRequestsReport,
): SummaryInfo {
  const r = buildCaptureReport(analysis, { pageRequests });
  const setup = recordedSetup(r);
  return {
    fileName,
    format: r.format,
    formatDescription: r.formatDescription,
    input: inputLabel(r),
    inputDescription: r.input.description,
    migration: migrationLabel(analysis.capture.meta),
    qemuVersionHint: r.qemuVersionHint,
    qemuVersionReasons: r.qemuVersionReasons,
    qemuVersion: qemuVersionText(setup, r.qemuVersionHint),
    setup,
    pageSize: r.pageSize,
    pageSizeSource: r.pageSizeSource,
    channels: r.streams
      .filter((s) => s.kind === 'multifd')
      .map((s) => ({ stream: s.id, channel: s.channel, packets: s.packets, compression: s.compression, uuid: s.uuid })),
    compression: r.compression,
    totals: r.totals,
    diagnosticCounts: r.diagnosticCounts as SummaryInfo['diagnosticCounts'],
    ramblocks: r.ramblocks,
    packetRamblocks: packets.packetRamblocks(),
    hasMainChannel: !!analysis.main,
    trusted,
    ...(r.pageRequests ? { pageRequests: pageRequestsSummary(r.pageRequests) } : {}),
  };
}

function pageRequestsSummary(p: PageRequestsReport): PageRequestsSummaryInfo {
  const s = p.summary;
  return {
    requests: s.requests,
    pagesRequested: s.pagesRequested,
    answered: s.answered,
    answeredViaMain: s.answeredVia.main,
    answeredViaPreempt: s.answeredVia.preempt,
    beforeRequest: s.beforeRequest,
    unanswered: s.unanswered,
    timed: p.timed,
    latency: s.latency,
  };
}
