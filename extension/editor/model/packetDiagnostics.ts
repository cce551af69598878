import type { CaptureAnalysis } from '../../core/analysisTypes';
import { formatLocation } from '../../core/diagnostics/diagnostic';
import type { DiagnosticInfo, PacketRef } from '../../shared/protocol';
import type { PacketIndex } from './packetIndex';

const MAX_DIAGNOSTICS_PER_REQUEST = 500;

/** The capture's diagnostics as the webview lists them: in pages, by severity, and per packet. */
export class PacketDiagnostics {
  /** "stream:packet" → indices into the analysis' diagnostics. */
  private readonly byPacket = new Map<string, number[]>();

  constructor(
    private readonly analysis: CaptureAnalysis,
    private readonly packets: PacketIndex,
  ) {
    analysis.diagnostics.forEach((d, i) => {
      const ref = this.refOf(i);
      if (!ref) return;
      const k = `${ref.stream}:${ref.index}`;
      const list = this.byPacket.get(k);
      if (list) list.push(i);
      else this.byPacket.set(k, [i]);
    });
  }

  /** The row a diagnostic points at: its packet, or the main-channel row holding its record or offset. */
  private refOf(i: number): PacketRef | undefined {
    const { location } = this.analysis.diagnostics[i];
    const { stream, packet: index } = location;
    if (stream === undefined) return undefined;
    if (index !== undefined) return this.packets.globalId({ stream, index }) >= 0 ? { stream, index } : undefined;
    const row = this.packets.mainRowOf(location);
    return row === undefined ? undefined : { stream, index: row };
  }

  info(i: number): DiagnosticInfo {
    const d = this.analysis.diagnostics[i];
    const packet = this.refOf(i);
    return {
      id: i,
      code: d.code,
      severity: d.severity,
      message: d.message,
      location: formatLocation(d.location),
      packet,
    };
  }

  ofPacket(ref: PacketRef): DiagnosticInfo[] {
    return (this.byPacket.get(`${ref.stream}:${ref.index}`) ?? []).map((i) => this.info(i));
  }

  /** Diagnostics [start, start+count) of those with `severity` (all when undefined). */
  list(
    start: number,
    count: number,
    severity?: DiagnosticInfo['severity'],
  ): { total: number; start: number; items: DiagnosticInfo[] } {
    const ids: number[] = [];
    this.analysis.diagnostics.forEach((d, i) => {
      if (!severity || d.severity === severity) ids.push(i);
    });
    const a = Math.max(0, Math.min(start, ids.length));
    return {
      total: ids.length,
      start: a,
      items: ids.slice(a, a + Math.min(count, MAX_DIAGNOSTICS_PER_REQUEST)).map((i) => this.info(i)),
    };
  }
}
