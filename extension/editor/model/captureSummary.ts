import type { CaptureAnalysis } from '../../core/analysisTypes';
import { buildCaptureReport } from '../../core/captureReport';
import type { SummaryInfo } from '../../shared/protocol';
import { inputLabel, migrationLabel } from './inputLabel';
import type { PacketIndex } from './packetIndex';

/** The summary bar's content: the capture report's figures, plus what the editor adds (trust, ramblocks named by packets). */
export function captureSummary(
  analysis: CaptureAnalysis,
  packets: PacketIndex,
  fileName: string,
  trusted: boolean,
): SummaryInfo {
  const r = buildCaptureReport(analysis);
  return {
    fileName,
    format: r.format,
    formatDescription: r.formatDescription,
    input: inputLabel(r),
    inputDescription: r.input.description,
    migration: migrationLabel(analysis.capture.meta),
    qemuVersionHint: r.qemuVersionHint,
    qemuVersionReasons: r.qemuVersionReasons,
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
  };
}
