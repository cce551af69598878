import { basename } from 'node:path';
import type { CaptureAnalysis } from '../../core/analysisTypes';
import { filterFieldHelp } from '../../core/filter/filter';
import type {
  DiagnosticInfo,
  FilterFieldInfo,
  PacketDetails,
  PacketRef,
  PacketRow,
  PageContent,
  PageMapInfo,
  PageWriterInfo,
  PayloadChunk,
  SummaryInfo,
  ViewInfo,
  ViewSpec,
} from '../../shared/protocol';
import { buildSectionList, type SectionList } from '../../core/mainchannel/sectionList';
import { buildCaptureStats } from '../../core/stats/captureStats';
import type { CaptureStats } from '../../core/stats/statsTypes';
import type { DiagnosticLocation } from '../../core/diagnostics/diagnostic';
import { captureSummary } from './captureSummary';
import { readPageRequests } from '../../core/postcopy/pageRequestsOfCapture';
import type { PageRequestsReport } from '../../core/postcopy/pageRequests';
import { DeviceSectionsView } from './deviceSectionsView';
import { MainChannelRows } from './mainChannelRows';
import { PacketDiagnostics } from './packetDiagnostics';
import { PacketIndex } from './packetIndex';
import { PacketInspector } from './packetInspector';
import { PacketView } from './packetView';
import { PageLookup, type MismatchRanges } from './pageLookup';
import { SchedulePageUsage, type PageUsageSource } from './pageUsage';

/**
 * The document model of one capture, in the extension host: the analysis from the core, and what the
 * webview asks of it, each from its own part — the packet index (global ids, rows), the view (filter, sort,
 * locate), the inspector (one packet, its payload and pages), the diagnostics and the page lookup.
 * No `vscode` import: unit-tested with plain Node.
 */
export class CaptureModel {
  readonly packets: PacketIndex;
  readonly view: PacketView;
  readonly inspector: PacketInspector;
  readonly packetDiagnostics: PacketDiagnostics;
  readonly pages: PageLookup;
  readonly pageUsage: PageUsageSource;
  /** The Devices view: device sections and their decoded fields. */
  readonly devices: DeviceSectionsView;

  /**
   * The model with the main channel's rows in the list (its records, commands with their arguments, the
   * return path): what the editor opens. The constructor alone lists multifd packets only, unless given the
   * main channel's section list.
   */
  static async load(analysis: CaptureAnalysis, pageUsage?: PageUsageSource): Promise<CaptureModel> {
    const [sections, pageRequests] = await Promise.all([buildSectionList(analysis), readPageRequests(analysis)]);
    const model = new CaptureModel(analysis, pageUsage, sections);
    model.pageRequests = pageRequests;
    return model;
  }

  /** Postcopy page requests with each requested page's latency, for the summary (read by load). */
  pageRequests?: PageRequestsReport;

  constructor(
    readonly analysis: CaptureAnalysis,
    pageUsage?: PageUsageSource,
    mainChannel?: SectionList,
  ) {
    this.pageUsage = pageUsage ?? new SchedulePageUsage(analysis);
    const main = analysis.main && mainChannel ? new MainChannelRows(analysis, analysis.main, mainChannel) : undefined;
    this.packets = new PacketIndex(analysis, main);
    this.view = new PacketView(this.packets);
    this.packetDiagnostics = new PacketDiagnostics(analysis, this.packets);
    this.inspector = new PacketInspector(analysis, this.packets, this.view, this.packetDiagnostics);
    this.pages = new PageLookup(this.pageUsage, analysis.pageSize);
    this.devices = new DeviceSectionsView(analysis, main, this.packetDiagnostics);
  }

  get fileName(): string {
    return basename(this.analysis.capture.path);
  }

  /** Rows of the packet list: the main channel's, then every multifd stream's packets. */
  get total(): number {
    return this.packets.total;
  }

  /** The main-channel row a diagnostic points at (the Problems panel's link), if any. */
  mainRowOf(location: DiagnosticLocation): number | undefined {
    return this.packets.mainRowOf(location);
  }

  get currentView(): { id: number; spec: ViewSpec; rowCount: number } {
    return this.view.current;
  }

  // The webview's requests and the commands' look-ups, answered by the part that holds them.

  globalId(ref: PacketRef): number {
    return this.packets.globalId(ref);
  }

  rowOf(g: number, viewIndex: number): PacketRow {
    return this.packets.rowOf(g, viewIndex);
  }

  findByPacketNum(num: number): PacketRef[] {
    return this.packets.findByPacketNum(num);
  }

  blocks(): string[] {
    return this.packets.blocks();
  }

  setView(spec: ViewSpec, onProgress?: (message: string) => void): Promise<ViewInfo> {
    return this.view.setView(spec, onProgress);
  }

  rows(start: number, count: number): { viewId: number; start: number; rows: PacketRow[] } {
    return this.view.rows(start, count);
  }

  locate(ref: PacketRef): number {
    return this.view.locate(ref);
  }

  viewIds(): Uint32Array {
    return this.view.ids();
  }

  packet(ref: PacketRef): Promise<PacketDetails> {
    return this.inspector.packet(ref);
  }

  payload(ref: PacketRef, start: number, length: number): Promise<PayloadChunk> {
    return this.inspector.payload(ref, start, length);
  }

  page(ref: PacketRef, slot: number, onProgress?: (message: string) => void): Promise<PageContent> {
    return this.inspector.page(ref, slot, onProgress);
  }

  diagnostics(
    start: number,
    count: number,
    severity?: DiagnosticInfo['severity'],
  ): { total: number; start: number; items: DiagnosticInfo[] } {
    return this.packetDiagnostics.list(start, count, severity);
  }

  summary(trusted: boolean): SummaryInfo {
    return captureSummary(this.analysis, this.packets, this.fileName, trusted, this.pageRequests);
  }

  filterFields(): FilterFieldInfo[] {
    return filterFieldHelp();
  }

  setMismatches(m: MismatchRanges): void {
    this.pages.setMismatches(m);
  }

  pageMap(block: string, onProgress?: (message: string) => void): Promise<PageMapInfo> {
    return this.pages.pageMap(block, onProgress);
  }

  async pageWriters(block: string | undefined, offset: number): Promise<PageWriterInfo[]> {
    const writers = await this.pages.pageWriters(block, offset);
    const main = this.packets.main;
    if (!main) return writers;
    // A main-channel RAM record is a row of the list too: link to it.
    return writers.map((w) => {
      const row = w.ref || w.record === undefined ? undefined : main.rowOfRecord(w.record);
      return row === undefined ? w : { ...w, ref: { stream: main.streamId, index: row } };
    });
  }

  private statsOnce?: Promise<CaptureStats>;

  /** The Timeline view's figures: what `mfd stats --json` prints (same function, default bins), computed once. */
  stats(): Promise<CaptureStats> {
    // A failure is not kept: the next request computes again.
    this.statsOnce ??= buildCaptureStats(this.analysis).catch((e: unknown) => {
      this.statsOnce = undefined;
      throw e;
    });
    return this.statsOnce;
  }

  /** Releases codec streams and the capture file. */
  async dispose(): Promise<void> {
    this.view.cancel();
    this.inspector.close();
    await this.analysis.capture.source.close();
  }
}
