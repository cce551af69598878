import { promises as fsp, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, isAbsolute, join, resolve } from 'node:path';
import { DebugSession, ErrorDestination, Handles, InitializedEvent, OutputEvent, StoppedEvent, TerminatedEvent, Thread, Event as DapEvent } from '@vscode/debugadapter';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { analyzeCaptureFile, type CaptureAnalysis } from '../core/analysis';
import { DiagnosticSink, type Diagnostic } from '../core/diagnostics/diagnostic';
import type { FilterRow } from '../core/filter/fields';
import { readPacket } from '../core/multifd/readPacket';
import { compareWithReference } from '../core/replay/compareImages';
import { describeProvenance, formatProvenance } from '../core/replay/provenance';
import { ReplayEngine } from '../core/replay/replayEngine';
import { WriterKind } from '../core/replay/schedule';
import { MAIN_RECORD_KIND_NAMES } from '../core/mainchannel/mainChannelIndex';
import { hex } from '../core/util/bytes';
import {
  conditionHolds,
  dataIdOf,
  formatPage,
  parseCondition,
  parseDataId,
  parseFunctionBreakpoint,
  parseHitCondition,
  parsePageRef,
  type Breakpoint,
} from './breakpoints';
import { memoryReferenceOf, parseMemoryReference } from './memoryReference';
import { pageCountOf, pageOf, ReplayCursor, type CursorEntry } from './replayCursor';
import type { CompiledFilter } from '../core/filter/filter';

export const REPLAY_DEBUG_TYPE = 'multifd-replay';
/** Custom event sent on every stop at a multifd packet: the editor reveals it. */
export const REVEAL_EVENT = 'multifd.revealPacket';

export interface RevealEventBody {
  capture: string;
  stream: number;
  packetIndex: number;
}

export interface ReplayLaunchArguments extends DebugProtocol.LaunchRequestArguments {
  /** The .mfd capture (absolute, or relative to `cwd`). */
  capture: string;
  stopOnEntry?: boolean;
  /** Target page size override (as mfd --page-size). */
  pageSize?: number;
  /** ramblock name → reference RAM image, compared when the replay reaches the end. */
  reference?: Record<string, string>;
  /** Where the rebuilt ramblock images go; a temporary folder (removed at the end) when not given. */
  outDir?: string;
  cwd?: string;
  /** Bound of the undo log for stepping back, in MiB (default 128). */
  maxUndoMiB?: number;
  /** Decode zlib/zstd in worker threads (default: auto). */
  workers?: boolean;
}

type FrameInfo = { kind: 'page' | 'packet'; entry: number; page?: number } | { kind: 'epoch'; epoch: number } | { kind: 'start' };

type VarContainer =
  | { kind: 'packet'; entry: number }
  | { kind: 'offsets'; entry: number; zero: boolean }
  | { kind: 'epoch' }
  | { kind: 'ram' }
  | { kind: 'block'; block: string }
  | { kind: 'diagnostics'; entry: number };

interface StopHit {
  reason: string;
  ids?: number[];
  text?: string;
  description?: string;
  diagnostics?: Diagnostic[];
  /** Page-level stop: the frame stack shows the page last written. */
  page?: boolean;
}

const EXCEPTION_FILTERS: DebugProtocol.ExceptionBreakpointsFilter[] = [
  { filter: 'error', label: 'Error diagnostics', description: 'Stop at a packet or record that has an error diagnostic (or raises one while replayed)', default: true },
  { filter: 'warning', label: 'Warning diagnostics', description: 'Stop at a packet or record that has a warning diagnostic', default: false },
  {
    filter: 'filter',
    label: 'Packet matches filter',
    description: 'Stop at every multifd packet the filter expression (the packet list filter language) matches',
    default: false,
    supportsCondition: true,
    conditionDescription: 'A filter expression, e.g. zero > 100 && ramblock == "pc.ram"',
  },
];

/**
 * The `multifd-replay` debug adapter: replays a capture one packet (next), one page (step in) or one epoch
 * (step out) at a time, breaking on pages, ramblocks, filter expressions, data writes and diagnostics, and
 * serving the rebuilt RAM through readMemory. No `vscode` import: it runs inline in the extension host and
 * as a socket server in tests.
 */
export class MultifdReplaySession extends DebugSession {
  private analysis: CaptureAnalysis | undefined;
  private engine: ReplayEngine | undefined;
  private cursor: ReplayCursor | undefined;
  private sink = new DiagnosticSink();
  private capturePath = '';
  private outDir = '';
  private ownOutDir = false;
  private references = new Map<string, string>();
  private compared = false;
  private configured!: Promise<void>;
  private configuredResolve!: () => void;
  private frames = new Handles<FrameInfo>();
  private vars = new Handles<VarContainer>();
  private functionBps: Breakpoint[] = [];
  private dataBps: Breakpoint[] = [];
  private exceptionFilters = new Set<string>();
  private filterBreak: CompiledFilter | undefined;
  private nextBpId = 1;
  private lastStop: StopHit = { reason: 'entry' };
  private pauseRequested = false;
  private queue: Promise<unknown> = Promise.resolve();
  private diagIndex = new Map<string, Diagnostic[]>();
  /** Per multifd source: its SYNC packets (row, epoch) and the schedule index of the last entry before each. */
  private syncInfo: { row: number; epoch: number; lastBefore: number }[][] = [];
  private ended = false;

  constructor() {
    super();
    this.setDebuggerLinesStartAt1(true);
    this.setDebuggerColumnsStartAt1(true);
    this.configured = new Promise((r) => (this.configuredResolve = r));
  }

  // ---- lifecycle ------------------------------------------------------------------------------------

  protected override initializeRequest(response: DebugProtocol.InitializeResponse): void {
    response.body = {
      supportsConfigurationDoneRequest: true,
      supportsFunctionBreakpoints: true,
      supportsConditionalBreakpoints: true,
      supportsHitConditionalBreakpoints: true,
      supportsDataBreakpoints: true,
      supportsReadMemoryRequest: true,
      supportsStepBack: true,
      supportsSteppingGranularity: true,
      supportsExceptionInfoRequest: true,
      supportsExceptionFilterOptions: true,
      exceptionBreakpointFilters: EXCEPTION_FILTERS,
      supportsTerminateRequest: true,
      supportsEvaluateForHovers: false,
      supportsDelayedStackTraceLoading: false,
    };
    this.sendResponse(response);
  }

  protected override configurationDoneRequest(response: DebugProtocol.ConfigurationDoneResponse): void {
    this.sendResponse(response);
    this.configuredResolve();
  }

  protected override launchRequest(response: DebugProtocol.LaunchResponse, args: ReplayLaunchArguments): void {
    void this.launch(response, args);
  }

  private async launch(response: DebugProtocol.LaunchResponse, args: ReplayLaunchArguments): Promise<void> {
    try {
      if (!args.capture) throw new Error('the launch configuration needs "capture": the .mfd file to replay');
      const cwd = args.cwd ?? process.cwd();
      this.capturePath = isAbsolute(args.capture) ? args.capture : resolve(cwd, args.capture);
      const a = await analyzeCaptureFile(this.capturePath, { pageSize: args.pageSize });
      this.analysis = a;
      for (const d of a.diagnostics) this.sink.add(d);
      this.indexDiagnostics(a.diagnostics);
      this.indexSyncs(a);
      if (args.outDir) {
        this.outDir = isAbsolute(args.outDir) ? args.outDir : resolve(cwd, args.outDir);
        await fsp.mkdir(this.outDir, { recursive: true });
      } else {
        this.outDir = mkdtempSync(join(tmpdir(), 'mfd-debug-'));
        this.ownOutDir = true;
      }
      for (const [block, file] of Object.entries(args.reference ?? {})) this.references.set(block, isAbsolute(file) ? file : resolve(cwd, file));
      this.engine = await ReplayEngine.create(a, this.sink, { outDir: this.outDir, force: true, workers: args.workers ?? 'auto' });
      this.cursor = new ReplayCursor(this.engine, this.sink, { maxUndoBytes: (args.maxUndoMiB ?? 128) * 2 ** 20 });
      const epochs = a.schedule.length ? a.schedule.epoch[a.schedule.length - 1] + 1 : 0;
      this.output(`capture ${args.capture}: page size ${a.pageSize} (${a.pageSizeSource}), ${a.multifd.length} multifd channel(s), ${a.compression ?? 'no'} compression, ${a.schedule.length} page writes in ${epochs} epoch(s)\n`);
      const counts = { error: 0, warning: 0, info: 0 };
      for (const d of a.diagnostics) counts[d.severity]++;
      if (counts.error || counts.warning) this.output(`diagnostics: ${counts.error} error(s), ${counts.warning} warning(s)\n`);
      this.sendEvent(new InitializedEvent());
      await this.configured;
      this.sendResponse(response);
      if (args.stopOnEntry) this.stopAt({ reason: 'entry', description: 'Replay not started: RAM is all zero, as on the destination before migration' });
      else this.enqueue(() => this.runForward('continue'));
    } catch (e) {
      this.sendErrorResponse(response, 1001, `multifd-replay: ${(e as Error).message}`);
      this.sendEvent(new TerminatedEvent());
    }
  }

  protected override disconnectRequest(response: DebugProtocol.DisconnectResponse): void {
    void this.shutdownReplay().then(() => this.sendResponse(response));
  }

  protected override terminateRequest(response: DebugProtocol.TerminateResponse): void {
    this.sendResponse(response);
    this.sendEvent(new TerminatedEvent());
  }

  private async shutdownReplay(): Promise<void> {
    this.pauseRequested = true;
    await this.queue.catch(() => undefined);
    const engine = this.engine;
    this.engine = undefined;
    this.cursor = undefined;
    await engine?.close().catch(() => undefined);
    if (this.ownOutDir) await fsp.rm(this.outDir, { recursive: true, force: true }).catch(() => undefined);
  }

  private output(text: string, category = 'console'): void {
    this.sendEvent(new OutputEvent(text, category));
  }

  private indexDiagnostics(ds: readonly Diagnostic[]): void {
    for (const d of ds) {
      if (d.severity === 'info') continue;
      const key = d.location.packet !== undefined ? `p:${d.location.stream}:${d.location.packet}` : d.location.record !== undefined ? `r:${d.location.record}` : undefined;
      if (!key) continue;
      const list = this.diagIndex.get(key) ?? [];
      list.push(d);
      this.diagIndex.set(key, list);
    }
  }

  private indexSyncs(a: CaptureAnalysis): void {
    const s = a.schedule;
    const at = new Map<string, number>();
    for (let i = 0; i < s.length; i++) if (s.kind[i] === WriterKind.Multifd) at.set(`${s.source[i]}:${s.row[i]}`, i);
    this.syncInfo = a.multifd.map((m, source) => {
      const t = m.packets;
      const out: { row: number; epoch: number; lastBefore: number }[] = [];
      let last = -1;
      let lastEpoch = -1;
      for (let row = 0; row < t.length; row++) {
        const e = t.epoch.get(row);
        if (e !== lastEpoch) {
          last = -1;
          lastEpoch = e;
        }
        const idx = at.get(`${source}:${row}`);
        if (idx !== undefined) last = idx;
        if (t.flags.get(row) & 1) out.push({ row, epoch: e, lastBefore: last });
      }
      return out;
    });
  }

  // ---- movement -------------------------------------------------------------------------------------

  private enqueue(f: () => Promise<void>): void {
    this.queue = this.queue.then(f).catch((e) => {
      this.output(`multifd-replay: ${(e as Error).stack ?? e}\n`, 'stderr');
      this.stopAt({ reason: 'exception', text: 'replay failed', description: (e as Error).message });
    });
  }

  protected override continueRequest(response: DebugProtocol.ContinueResponse): void {
    response.body = { allThreadsContinued: true };
    this.sendResponse(response);
    this.enqueue(() => this.runForward('continue'));
  }

  protected override nextRequest(response: DebugProtocol.NextResponse, args: DebugProtocol.NextArguments): void {
    this.sendResponse(response);
    this.enqueue(() => (args.granularity === 'instruction' ? this.runForward('page') : this.runForward('next')));
  }

  protected override stepInRequest(response: DebugProtocol.StepInResponse): void {
    this.sendResponse(response);
    this.enqueue(() => this.runForward('page'));
  }

  protected override stepOutRequest(response: DebugProtocol.StepOutResponse): void {
    this.sendResponse(response);
    this.enqueue(() => this.runForward('epoch'));
  }

  protected override stepBackRequest(response: DebugProtocol.StepBackResponse, args: DebugProtocol.StepBackArguments): void {
    this.sendResponse(response);
    this.enqueue(() => this.runBackward(args.granularity === 'instruction' ? 'page' : 'next'));
  }

  protected override reverseContinueRequest(response: DebugProtocol.ReverseContinueResponse): void {
    this.sendResponse(response);
    this.enqueue(() => this.runBackward('continue'));
  }

  protected override pauseRequest(response: DebugProtocol.PauseResponse): void {
    this.pauseRequested = true;
    this.sendResponse(response);
  }

  /** The packet row the filter language sees, for a multifd entry. */
  private filterRow(e: CursorEntry): FilterRow | undefined {
    const a = this.analysis!;
    const s = a.schedule;
    if (s.kind[e.step] !== WriterKind.Multifd) return undefined;
    const m = a.multifd[s.source[e.step]];
    return { summary: m.packets.row(s.row[e.step]), channel: m.handshake?.channelId ?? -1, uuid: m.handshake?.uuid, offsets: { normal: e.normalOffsets, zero: e.zeroOffsets } };
  }

  private diagnosticsOf(e: CursorEntry): Diagnostic[] {
    const a = this.analysis!;
    const s = a.schedule;
    const key = s.kind[e.step] === WriterKind.Multifd ? `p:${a.multifd[s.source[e.step]].streamId}:${s.row[e.step]}` : `r:${s.row[e.step]}`;
    return [...(this.diagIndex.get(key) ?? []), ...e.raised.filter((d) => d.severity !== 'info')];
  }

  /** Breakpoints that stop after the whole entry: ramblocks, filter expressions, diagnostics. */
  private entryHit(e: CursorEntry, count: boolean): StopHit | undefined {
    const row = this.filterRow(e);
    const ids: number[] = [];
    for (const bp of this.functionBps) {
      const t = bp.target;
      const match = t.kind === 'block' ? t.block === e.block : t.kind === 'filter' ? !!row && t.filter.test(row) === true : false;
      if (match && this.counts(bp, row, count)) ids.push(bp.id);
    }
    if (ids.length) return { reason: 'function breakpoint', ids, description: `Breakpoint at ${this.entryLabel(e)}` };
    const diags = this.diagnosticsOf(e).filter((d) => this.exceptionFilters.has(d.severity));
    if (diags.length) return { reason: 'exception', text: diags[0].code, description: `${diags[0].severity}[${diags[0].code}]: ${diags[0].message}`, diagnostics: diags };
    if (this.filterBreak && row && this.filterBreak.test(row) === true) return { reason: 'exception', text: 'filter', description: `Packet matches filter: ${this.filterBreak.text}` };
    return undefined;
  }

  /** Page and data breakpoints on page p of entry e. */
  private pageHit(e: CursorEntry, p: number, count: boolean): StopHit | undefined {
    const ps = this.analysis!.pageSize;
    const pg = pageOf(e, p);
    const offset = pg.offset - (pg.offset % ps);
    let row: FilterRow | undefined | null = null;
    const rowOf = () => (row === null ? (row = this.filterRow(e)) : row);
    const fn: number[] = [];
    for (const bp of this.functionBps) {
      if (bp.target.kind === 'page' && bp.target.block === pg.block && bp.target.offset === offset && this.counts(bp, rowOf(), count)) fn.push(bp.id);
    }
    if (fn.length) return { reason: 'function breakpoint', ids: fn, page: true, description: `Breakpoint: page ${formatPage(pg.block, offset)} written (${pg.zero ? 'zero page' : 'data'})` };
    const data: number[] = [];
    for (const bp of this.dataBps) {
      const t = bp.target;
      if (t.kind !== 'page' || t.block !== pg.block || t.offset !== offset) continue;
      if (bp.zeroOnly && !pg.zero) continue;
      if (this.counts(bp, rowOf(), count)) data.push(bp.id);
    }
    if (data.length) return { reason: 'data breakpoint', ids: data, page: true, description: `Page ${formatPage(pg.block, offset)} written${pg.zero ? ' as a zero page' : ''}` };
    return undefined;
  }

  private counts(bp: Breakpoint, row: FilterRow | undefined, count: boolean): boolean {
    if (!conditionHolds(bp.condition, row)) return false;
    if (!bp.hit) return true;
    if (!count) return true;
    bp.hits++;
    return bp.hit(bp.hits);
  }

  private firstPageHit(e: CursorEntry, from: number, count: boolean): { p: number; hit: StopHit } | undefined {
    if (!this.functionBps.some((b) => b.target.kind === 'page') && !this.dataBps.length) return undefined;
    for (let p = from; p < pageCountOf(e); p++) {
      const hit = this.pageHit(e, p, count);
      if (hit) return { p, hit };
    }
    return undefined;
  }

  private async runForward(mode: 'continue' | 'next' | 'page' | 'epoch'): Promise<void> {
    const c = this.cursor!;
    this.pauseRequested = false;
    if (c.atEnd || this.ended) {
      this.ended = true;
      await this.finishAtEnd();
      this.sendEvent(new TerminatedEvent());
      return;
    }
    if (mode === 'page') {
      const before = c.position;
      const e = await c.forwardPage();
      if (!e) return this.stopAtEnd();
      const p = c.position.pages - 1;
      const newEntry = c.position.entry !== before.entry;
      const hit = this.pageHit(e, p, true) ?? (c.currentComplete ? this.entryHit(e, true) : undefined);
      return this.stopAt(hit ?? { reason: 'step', page: true, description: newEntry ? `Entered ${this.entryLabel(e)}` : undefined });
    }
    const startEpoch = c.current?.epoch ?? (c.length ? this.analysis!.schedule.epoch[0] : 0);
    // Part of the current entry is still to write: its remaining pages come first.
    const cur = c.current;
    if (cur && !c.currentComplete) {
      const ph = this.firstPageHit(cur, c.position.pages, true);
      if (ph) {
        await c.setPagesApplied(ph.p + 1);
        return this.stopAt(ph.hit);
      }
      await c.setPagesApplied(pageCountOf(cur));
      const eh = this.entryHit(cur, true);
      if (eh) return this.stopAt(eh);
      if (mode === 'next') return this.stopAt({ reason: 'step' });
    }
    let steps = 0;
    for (;;) {
      if (this.pauseRequested) return this.stopAt({ reason: 'pause' });
      const e = await c.forwardEntry();
      if (!e) return this.stopAtEnd();
      steps++;
      const ph = this.firstPageHit(e, 0, true);
      if (ph) {
        await c.setPagesApplied(ph.p + 1);
        return this.stopAt(ph.hit);
      }
      const eh = this.entryHit(e, true);
      if (eh) return this.stopAt(eh);
      if (mode === 'next') return this.stopAt({ reason: 'step' });
      if (mode === 'epoch') {
        const next = e.step + 1 < c.length ? this.analysis!.schedule.epoch[e.step + 1] : undefined;
        // At the end of the epoch already when stepping out: go on to the end of the next one.
        if ((next === undefined || next !== e.epoch) && (e.epoch !== startEpoch || steps > 0)) {
          if (next === undefined) return this.stopAtEnd();
          return this.stopAt({ reason: 'step', description: `End of epoch ${e.epoch}: the next page write belongs to epoch ${next}` });
        }
      }
      if (steps % 256 === 0) await new Promise((r) => setImmediate(r));
    }
  }

  private async runBackward(mode: 'continue' | 'next' | 'page'): Promise<void> {
    const c = this.cursor!;
    this.pauseRequested = false;
    this.ended = false;
    const limit = () =>
      this.stopAt(
        c.position.entry < 0
          ? { reason: 'entry', description: 'Start of the replay: nothing written yet' }
          : { reason: 'step', description: `Oldest checkpoint reached: page images before step ${c.oldestReachable.entry + 1} were dropped (maxUndoMiB)` },
      );
    if (mode === 'page') {
      if (!(await c.backwardPage())) return limit();
      return this.stopAt({ reason: 'step', page: c.current !== undefined && !c.currentComplete });
    }
    if (mode === 'next') {
      if (!(await c.backwardEntry())) return limit();
      return this.stopAt({ reason: 'step' });
    }
    // reverse continue: the latest hit strictly before the current position.
    const cur = c.current;
    if (cur && !c.currentComplete) {
      for (let p = c.position.pages - 2; p >= 0; p--) {
        const hit = this.pageHit(cur, p, false);
        if (hit) {
          await c.setPagesApplied(p + 1);
          return this.stopAt(hit);
        }
      }
    }
    let steps = 0;
    for (;;) {
      if (this.pauseRequested) return this.stopAt({ reason: 'pause' });
      if (!(await c.backwardEntry())) return limit();
      const e = c.current;
      if (!e) return limit();
      const eh = this.entryHit(e, false);
      if (eh) return this.stopAt(eh);
      for (let p = pageCountOf(e) - 1; p >= 0; p--) {
        const hit = this.pageHit(e, p, false);
        if (hit) {
          await c.setPagesApplied(p + 1);
          return this.stopAt(hit);
        }
      }
      if (++steps % 256 === 0) await new Promise((r) => setImmediate(r));
    }
  }

  private async stopAtEnd(): Promise<void> {
    this.ended = true;
    await this.finishAtEnd();
    this.stopAt({ reason: 'end', description: 'End of replay: every page write applied; RAM is what the destination holds' });
  }

  private async finishAtEnd(): Promise<void> {
    if (this.compared || !this.engine || !this.references.size) return;
    this.compared = true;
    for (const [block, ref] of this.references) {
      const b = this.engine.images.get(block);
      if (!b) {
        this.output(`reference ${block}: the capture has no ramblock of that name\n`, 'stderr');
        continue;
      }
      const r = await compareWithReference(this.analysis!, this.engine.provenance, block, b.file, ref);
      if (!r.mismatchedPages && r.imageSize === r.referenceSize) this.output(`reference ${block}: rebuilt RAM matches ${ref}\n`);
      else this.output(`reference ${block}: ${r.mismatchedPages} page(s) differ from ${ref}${r.ranges[0] ? `, first at 0x${r.ranges[0].start.toString(16)}: ${r.ranges[0].writers[0]}` : ''}\n`, 'stderr');
    }
  }

  // ---- stops ---------------------------------------------------------------------------------------

  private threadOf(e: CursorEntry | undefined): number {
    const a = this.analysis!;
    if (!e) return (a.multifd[0]?.streamId ?? a.main?.streamId ?? 0) + 1;
    return (e.kind === WriterKind.Multifd ? a.multifd[a.schedule.source[e.step]].streamId : a.main!.streamId) + 1;
  }

  private stopAt(hit: StopHit): void {
    this.lastStop = hit;
    this.frames.reset();
    this.vars.reset();
    const e = this.cursor?.current;
    const a = this.analysis!;
    if (e && e.kind === WriterKind.Multifd) {
      const m = a.multifd[a.schedule.source[e.step]];
      const body: RevealEventBody = { capture: this.capturePath, stream: m.streamId, packetIndex: a.schedule.row[e.step] };
      this.sendEvent(new DapEvent(REVEAL_EVENT, body));
    }
    const ev = new StoppedEvent(hit.reason, this.threadOf(e), hit.text) as DebugProtocol.StoppedEvent;
    ev.body.allThreadsStopped = true;
    if (hit.description) ev.body.description = hit.description;
    if (hit.ids?.length) ev.body.hitBreakpointIds = hit.ids;
    this.sendEvent(ev);
  }

  private entryLabel(e: CursorEntry): string {
    const a = this.analysis!;
    const s = a.schedule;
    if (e.kind === WriterKind.Multifd) {
      const m = a.multifd[s.source[e.step]];
      const row = s.row[e.step];
      return `packet ${row} of stream ${m.streamId} (channel ${m.handshake?.channelId ?? '?'}), packet_num ${m.packets.packetNum.get(row)}`;
    }
    const r = a.main!.records.row(s.row[e.step]);
    return `${MAIN_RECORD_KIND_NAMES[r.kind] ?? 'record'} record ${s.row[e.step]} on the main channel`;
  }

  protected override threadsRequest(response: DebugProtocol.ThreadsResponse): void {
    const a = this.analysis;
    const threads: Thread[] = [];
    for (const s of a?.streams ?? []) {
      if (s.kind === 'main') threads.push(new Thread(s.id + 1, `main channel (stream ${s.id})`));
      else if (s.kind === 'multifd') threads.push(new Thread(s.id + 1, `multifd channel ${s.multifd?.handshake?.channelId ?? '?'} (stream ${s.id})`));
    }
    response.body = { threads };
    this.sendResponse(response);
  }

  /** The last entry of a stream applied at the current position (for the other threads' stacks). */
  private lastEntryOfThread(threadId: number): CursorEntry | undefined {
    const c = this.cursor!;
    for (let i = c.position.entry; i >= 0; i--) {
      const e = c.entry(i)!;
      if (this.threadOf(e) === threadId && (i < c.position.entry || c.position.pages > 0)) return e;
    }
    return undefined;
  }

  /**
   * Every frame points at the capture itself: VS Code only focuses (and expands, and shows variables for) frames
   * with an available source, and opening the .mfd there brings up the capture editor, which follows the session.
   */
  private frameSource(): { source: DebugProtocol.Source; line: number; column: number } {
    return { source: { name: basename(this.capturePath), path: this.capturePath }, line: 1, column: 1 };
  }

  protected override stackTraceRequest(response: DebugProtocol.StackTraceResponse, args: DebugProtocol.StackTraceArguments): void {
    const c = this.cursor;
    const frames: DebugProtocol.StackFrame[] = [];
    if (c) {
      const cur = c.current;
      const own = this.threadOf(cur) === args.threadId;
      const e = own ? cur : this.lastEntryOfThread(args.threadId);
      if (e) {
        const pages = own ? c.position.pages : pageCountOf(e);
        if (own && (this.lastStop.page || pages < pageCountOf(e)) && pages > 0) {
          const p = pages - 1;
          const pg = pageOf(e, p);
          const n = pg.zero ? p - e.normalOffsets.length : p;
          const of = pg.zero ? e.zeroOffsets.length : e.normalOffsets.length;
          frames.push({ id: this.frames.create({ kind: 'page', entry: e.step, page: p }), name: `${pg.zero ? 'zero page' : 'page'} ${formatPage(pg.block, pg.offset)} (${pg.zero ? 'zero' : 'normal'} ${n + 1} of ${of})`, ...this.frameSource(), instructionPointerReference: memoryReferenceOf(pg.block, pg.offset) });
        }
        frames.push({ id: this.frames.create({ kind: 'packet', entry: e.step }), name: this.packetFrameName(e, own ? pages : pageCountOf(e)), ...this.frameSource() });
        frames.push({ id: this.frames.create({ kind: 'epoch', epoch: e.epoch }), name: `epoch ${e.epoch}`, ...this.frameSource() });
      } else {
        const epoch = c.length ? this.analysis!.schedule.epoch[0] : 0;
        frames.push({ id: this.frames.create({ kind: 'start' }), name: own ? 'start of replay (nothing written yet)' : 'no page written on this stream yet', ...this.frameSource() });
        frames.push({ id: this.frames.create({ kind: 'epoch', epoch }), name: `epoch ${epoch}`, ...this.frameSource() });
      }
    }
    const start = args.startFrame ?? 0;
    const sliced = args.levels ? frames.slice(start, start + args.levels) : frames.slice(start);
    response.body = { stackFrames: sliced, totalFrames: frames.length };
    this.sendResponse(response);
  }

  private packetFrameName(e: CursorEntry, pagesApplied: number): string {
    const a = this.analysis!;
    const s = a.schedule;
    const n = pageCountOf(e);
    const progress = pagesApplied < n ? `, ${pagesApplied} of ${n} pages written` : '';
    if (e.kind === WriterKind.Multifd) {
      const m = a.multifd[s.source[e.step]];
      const row = s.row[e.step];
      return `packet ${row} · packet_num ${m.packets.packetNum.get(row)} · ${e.block} · ${e.normalOffsets.length} normal, ${e.zeroOffsets.length} zero${progress}`;
    }
    const r = a.main!.records.row(s.row[e.step]);
    return `${MAIN_RECORD_KIND_NAMES[r.kind] ?? 'record'} record ${s.row[e.step]} · ${formatPage(e.block, r.offset)}${progress}`;
  }

  protected override scopesRequest(response: DebugProtocol.ScopesResponse, args: DebugProtocol.ScopesArguments): void {
    const f = this.frames.get(args.frameId);
    const scopes: DebugProtocol.Scope[] = [];
    if (f && (f.kind === 'page' || f.kind === 'packet')) {
      const e = this.cursor!.entry(f.entry)!;
      scopes.push({ name: e.kind === WriterKind.Multifd ? 'Packet' : 'Record', presentationHint: 'locals', variablesReference: this.vars.create({ kind: 'packet', entry: f.entry }), expensive: false });
      if (this.diagnosticsOf(e).length) scopes.push({ name: 'Diagnostics', variablesReference: this.vars.create({ kind: 'diagnostics', entry: f.entry }), expensive: false });
    }
    scopes.push({ name: 'Epoch', variablesReference: this.vars.create({ kind: 'epoch' }), expensive: false });
    scopes.push({ name: 'RAM', presentationHint: 'registers', variablesReference: this.vars.create({ kind: 'ram' }), expensive: false });
    response.body = { scopes };
    this.sendResponse(response);
  }

  protected override variablesRequest(response: DebugProtocol.VariablesResponse, args: DebugProtocol.VariablesArguments): void {
    this.variables(args.variablesReference).then(
      (variables) => {
        response.body = { variables };
        this.sendResponse(response);
      },
      (e) => this.sendErrorResponse(response, 1002, (e as Error).message),
    );
  }

  private async variables(ref: number): Promise<DebugProtocol.Variable[]> {
    const v = this.vars.get(ref);
    const a = this.analysis;
    const c = this.cursor;
    if (!v || !a || !c) return [];
    const leaf = (name: string, value: string, extra: Partial<DebugProtocol.Variable> = {}): DebugProtocol.Variable => ({ name, value, variablesReference: 0, ...extra });
    switch (v.kind) {
      case 'packet': {
        const e = c.entry(v.entry)!;
        const s = a.schedule;
        const out: DebugProtocol.Variable[] = [];
        if (e.kind === WriterKind.Multifd) {
          const m = a.multifd[s.source[e.step]];
          const row = s.row[e.step];
          const stream = a.streams.find((x) => x.id === m.streamId)!.stream.toDestination;
          const d = await readPacket(stream, m.packets, row, a.pageSize);
          for (const f of d.fields) {
            if (f.name.startsWith('unused')) continue;
            out.push(leaf(f.name, f.display, { type: `MultiFDPacket_t.${f.name}` }));
          }
          out.push(leaf('stream', String(m.streamId)), leaf('channel', String(m.handshake?.channelId ?? '?')), leaf('packet index', String(row)));
        } else {
          const r = a.main!.records.row(s.row[e.step]);
          out.push(leaf('record', MAIN_RECORD_KIND_NAMES[r.kind] ?? String(r.kind)), leaf('record index', String(s.row[e.step])), leaf('ramblock', e.block), leaf('offset', `0x${r.offset.toString(16)}`, { memoryReference: memoryReferenceOf(e.block, r.offset) }));
        }
        out.push(leaf('epoch', String(e.epoch)), leaf('replay step', `${e.step + 1} of ${c.length}`));
        out.push({ name: 'normal offsets', value: `[${e.normalOffsets.length}]`, variablesReference: e.normalOffsets.length ? this.vars.create({ kind: 'offsets', entry: e.step, zero: false }) : 0, indexedVariables: e.normalOffsets.length });
        out.push({ name: 'zero offsets', value: `[${e.zeroOffsets.length}]`, variablesReference: e.zeroOffsets.length ? this.vars.create({ kind: 'offsets', entry: e.step, zero: true }) : 0, indexedVariables: e.zeroOffsets.length });
        return out;
      }
      case 'offsets': {
        const e = c.entry(v.entry)!;
        const list = v.zero ? e.zeroOffsets : e.normalOffsets;
        const applied = v.entry < c.position.entry ? Infinity : v.entry > c.position.entry ? 0 : c.position.pages;
        const base = v.zero ? e.normalOffsets.length : 0;
        return list.map((o, i) =>
          leaf(`[${i}]`, `0x${o.toString(16)}${base + i >= applied ? ' (not written yet)' : ''}`, { memoryReference: memoryReferenceOf(e.block, o), evaluateName: `${v.zero ? 'zero ' : ''}${formatPage(e.block, o)}` }),
        );
      }
      case 'diagnostics': {
        const e = c.entry(v.entry)!;
        return this.diagnosticsOf(e).map((d, i) => leaf(`[${i}] ${d.severity}[${d.code}]`, d.message));
      }
      case 'epoch': {
        const cur = c.current;
        const epoch = cur?.epoch ?? (c.length ? a.schedule.epoch[0] : 0);
        const done = cur ? (c.currentComplete ? cur.step : cur.step - 1) : -1;
        const out = [leaf('epoch', String(epoch)), leaf('page writes applied', `${done + 1} of ${c.length}${cur && !c.currentComplete ? ` (+${c.position.pages} page(s) of step ${cur.step + 1})` : ''}`)];
        a.multifd.forEach((m, source) => {
          const syncs = this.syncInfo[source];
          const seen = syncs.filter((x) => x.epoch < epoch || (x.epoch === epoch && x.lastBefore <= done)).length;
          out.push(leaf(`channel ${m.handshake?.channelId ?? '?'} (stream ${m.streamId})`, `${seen} of ${syncs.length} SYNC seen`));
        });
        return out;
      }
      case 'ram': {
        const out: DebugProtocol.Variable[] = [];
        for (const b of this.engine!.images.values()) {
          out.push({ name: b.name, value: `${b.image.size} bytes (${b.sizeSource === 'mem-size' ? 'MEM_SIZE' : 'highest offset seen'})`, variablesReference: this.vars.create({ kind: 'block', block: b.name }), memoryReference: memoryReferenceOf(b.name, 0), evaluateName: b.name });
        }
        return out;
      }
      case 'block': {
        const b = this.engine!.images.get(v.block)!;
        const out = [leaf('used_length', `0x${b.image.size.toString(16)}`), leaf('pages', String(Math.ceil(b.image.size / a.pageSize)))];
        const ref = this.references.get(v.block);
        if (ref) out.push(leaf('reference', ref));
        return out;
      }
    }
  }

  // ---- evaluate / memory ----------------------------------------------------------------------------

  private blocks(): string[] {
    return [...(this.engine?.images.keys() ?? [])];
  }

  protected override evaluateRequest(response: DebugProtocol.EvaluateResponse, args: DebugProtocol.EvaluateArguments): void {
    void this.evaluate(args.expression).then(
      (body) => {
        response.body = body;
        this.sendResponse(response);
      },
      (e) => this.sendErrorResponse(response, 1003, (e as Error).message, undefined, ErrorDestination.Telemetry),
    );
  }

  private async evaluate(expression: string): Promise<DebugProtocol.EvaluateResponse['body']> {
    const a = this.analysis;
    const c = this.cursor;
    if (!a || !c) throw new Error('no capture loaded');
    const text = expression.trim().replace(/^zero\s+/, '');
    const blocks = this.blocks();
    if (blocks.includes(text)) {
      const b = this.engine!.images.get(text)!;
      return { result: `ramblock ${text}, ${b.image.size} bytes`, variablesReference: this.vars.create({ kind: 'block', block: text }), memoryReference: memoryReferenceOf(text, 0) };
    }
    const page = parsePageRef(text, blocks, a.pageSize);
    if (page) {
      const bytes = await c.read(page.block, page.offset, 16);
      const atFrontier = c.position.entry === c.frontier - 1 && c.currentComplete;
      const who = atFrontier ? `; ${formatProvenance(describeProvenance(a, this.engine!.provenance.packed(page.block, page.offset)))}` : '';
      return { result: `${hex(bytes, 16)}…${who}`, variablesReference: 0, memoryReference: memoryReferenceOf(page.block, page.offset) };
    }
    const cond = parseCondition(expression);
    if (!cond.ok) throw new Error(`"${expression}": not a ramblock, a page (ramblock:0xOFFSET) or a filter expression (${cond.message})`);
    const e = c.current;
    const row = e && this.filterRow(e);
    if (!row) return { result: 'no multifd packet at this step', variablesReference: 0 };
    const r = cond.value?.test(row);
    return { result: r === undefined ? 'unknown' : String(r), variablesReference: 0 };
  }

  protected override readMemoryRequest(response: DebugProtocol.ReadMemoryResponse, args: DebugProtocol.ReadMemoryArguments): void {
    void this.readMemory(args).then(
      (body) => {
        response.body = body;
        this.sendResponse(response);
      },
      (e) => this.sendErrorResponse(response, 1004, (e as Error).message, undefined, ErrorDestination.Telemetry),
    );
  }

  private async readMemory(args: DebugProtocol.ReadMemoryArguments): Promise<DebugProtocol.ReadMemoryResponse['body']> {
    const ref = parseMemoryReference(args.memoryReference);
    if (!ref) throw new Error(`memory reference "${args.memoryReference}" is not a ramblock of this replay (expected ramblock:<name>+0x<offset>)`);
    const b = this.engine?.images.get(ref.block);
    if (!b) throw new Error(`no ramblock "${ref.block}" in this replay`);
    const start = ref.offset + (args.offset ?? 0);
    const count = Math.max(0, Math.min(args.count, 16 << 20));
    const address = `0x${Math.max(0, start).toString(16)}`;
    if (start < 0 || start >= b.image.size) return { address, unreadableBytes: count };
    const data = await this.cursor!.read(ref.block, start, count);
    return { address, data: Buffer.from(data.buffer, data.byteOffset, data.length).toString('base64'), unreadableBytes: count - data.length };
  }

  // ---- breakpoints ---------------------------------------------------------------------------------

  protected override setBreakPointsRequest(response: DebugProtocol.SetBreakpointsResponse, args: DebugProtocol.SetBreakpointsArguments): void {
    response.body = { breakpoints: (args.breakpoints ?? []).map(() => ({ verified: false, message: 'A capture has no source lines: use a function breakpoint (ramblock:0xOFFSET, a ramblock, or a filter expression) or a data breakpoint on a page' })) };
    this.sendResponse(response);
  }

  protected override setFunctionBreakPointsRequest(response: DebugProtocol.SetFunctionBreakpointsResponse, args: DebugProtocol.SetFunctionBreakpointsArguments): void {
    const blocks = this.blocks();
    const ps = this.analysis?.pageSize ?? 4096;
    this.functionBps = [];
    const out: DebugProtocol.Breakpoint[] = [];
    for (const fb of args.breakpoints) {
      const id = this.nextBpId++;
      const t = parseFunctionBreakpoint(fb.name, blocks, ps);
      const cond = parseCondition(fb.condition);
      const hit = parseHitCondition(fb.hitCondition);
      const bad = !t.ok ? t.message : !cond.ok ? cond.message : !hit.ok ? hit.message : undefined;
      if (bad || !t.ok || !cond.ok || !hit.ok) {
        out.push({ id, verified: false, message: bad });
        continue;
      }
      this.functionBps.push({ id, target: t.value, condition: cond.value, hit: hit.value, hits: 0 });
      const what = t.value.kind === 'page' ? `page ${formatPage(t.value.block, t.value.offset)}` : t.value.kind === 'block' ? `any write to ${t.value.block}` : `packets matching ${t.value.filter.text}`;
      out.push({ id, verified: true, message: what });
    }
    response.body = { breakpoints: out };
    this.sendResponse(response);
  }

  protected override setExceptionBreakPointsRequest(response: DebugProtocol.SetExceptionBreakpointsResponse, args: DebugProtocol.SetExceptionBreakpointsArguments): void {
    this.exceptionFilters = new Set(args.filters.filter((f) => f === 'error' || f === 'warning'));
    this.filterBreak = undefined;
    const out: DebugProtocol.Breakpoint[] = [];
    const options = [...args.filters.map((f) => ({ filterId: f, condition: undefined as string | undefined })), ...(args.filterOptions ?? [])];
    for (const o of options) {
      if (o.filterId === 'error' || o.filterId === 'warning') {
        this.exceptionFilters.add(o.filterId);
        out.push({ verified: true });
      } else if (o.filterId === 'filter') {
        const cond = parseCondition(o.condition);
        if (!cond.ok || !cond.value) out.push({ verified: false, message: cond.ok ? 'give the filter expression as the condition' : cond.message });
        else {
          this.filterBreak = cond.value;
          out.push({ verified: true });
        }
      } else out.push({ verified: false, message: `unknown filter ${o.filterId}` });
    }
    response.body = { breakpoints: out };
    this.sendResponse(response);
  }

  protected override dataBreakpointInfoRequest(response: DebugProtocol.DataBreakpointInfoResponse, args: DebugProtocol.DataBreakpointInfoArguments): void {
    const none = (description: string) => {
      response.body = { dataId: null, description };
      this.sendResponse(response);
    };
    const a = this.analysis;
    if (!a || !this.cursor) return none('no capture loaded');
    let target: { block: string; offset: number; zeroOnly: boolean } | undefined;
    const v = args.variablesReference ? this.vars.get(args.variablesReference) : undefined;
    if (v?.kind === 'offsets') {
      const e = this.cursor.entry(v.entry)!;
      const i = Number(/^\[(\d+)\]$/.exec(args.name)?.[1] ?? NaN);
      const list = v.zero ? e.zeroOffsets : e.normalOffsets;
      if (Number.isInteger(i) && i < list.length) target = { block: e.block, offset: list[i] - (list[i] % a.pageSize), zeroOnly: v.zero };
    } else if (!args.variablesReference) {
      const zeroOnly = /^zero\s+/.test(args.name.trim());
      const page = parsePageRef(args.name.trim().replace(/^zero\s+/, ''), this.blocks(), a.pageSize);
      if (page) target = { ...page, zeroOnly };
    }
    if (!target) return none('Data breakpoints watch one page: an entry of "normal offsets" or "zero offsets", or ramblock:0xOFFSET (prefix "zero " for zero-page writes only)');
    response.body = {
      dataId: dataIdOf(target.block, target.offset, target.zeroOnly),
      description: target.zeroOnly ? `page ${formatPage(target.block, target.offset)} written as a zero page` : `page ${formatPage(target.block, target.offset)} written`,
      accessTypes: ['write'],
      canPersist: true,
    };
    this.sendResponse(response);
  }

  protected override setDataBreakpointsRequest(response: DebugProtocol.SetDataBreakpointsResponse, args: DebugProtocol.SetDataBreakpointsArguments): void {
    this.dataBps = [];
    const out: DebugProtocol.Breakpoint[] = [];
    for (const db of args.breakpoints) {
      const id = this.nextBpId++;
      const t = parseDataId(db.dataId);
      const cond = parseCondition(db.condition);
      const hit = parseHitCondition(db.hitCondition);
      if (!t || !cond.ok || !hit.ok || (db.accessType && db.accessType !== 'write')) {
        out.push({ id, verified: false, message: !t ? `unknown data id ${db.dataId}` : !cond.ok ? cond.message : !hit.ok ? hit.message : 'pages of a replay are only written' });
        continue;
      }
      this.dataBps.push({ id, target: { kind: 'page', block: t.block, offset: t.offset }, zeroOnly: t.zeroOnly, condition: cond.value, hit: hit.value, hits: 0 });
      out.push({ id, verified: true });
    }
    response.body = { breakpoints: out };
    this.sendResponse(response);
  }

  protected override exceptionInfoRequest(response: DebugProtocol.ExceptionInfoResponse): void {
    const s = this.lastStop;
    const d = s.diagnostics?.[0];
    response.body = d
      ? { exceptionId: d.code, description: d.message, breakMode: 'always', details: { message: s.diagnostics!.map((x) => `${x.severity}[${x.code}] ${x.message}`).join('\n'), typeName: d.severity } }
      : { exceptionId: s.text ?? s.reason, description: s.description, breakMode: 'always' };
    this.sendResponse(response);
  }
}
