import {
  DebugSession,
  ErrorDestination,
  InitializedEvent,
  OutputEvent,
  StoppedEvent,
  TerminatedEvent,
  Event as DapEvent,
} from '@vscode/debugadapter';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { errorMessage } from '../core/util/errorMessage';
import { parseMemoryReference } from './memoryReference';
import { REPLAY_CAPABILITIES } from './replayCapabilities';
import { openReplay, type ReplayLaunchOptions } from './replayLaunch';
import { ReplayPresentation } from './replayPresentation';
import type { ReplayRuntime } from './replayRuntime';
import type { ReplayEvents, ReplayStop } from './replayStop';

export const REPLAY_DEBUG_TYPE = 'multifd-replay';
/** Custom event sent on every stop at a multifd packet: the editor reveals it. */
export const REVEAL_EVENT = 'multifd.revealPacket';

export interface RevealEventBody {
  capture: string;
  stream: number;
  packetIndex: number;
}

export interface ReplayLaunchArguments extends DebugProtocol.LaunchRequestArguments, ReplayLaunchOptions {}

/** A launched replay: the runtime and how it is shown. Present from the launch on, until disconnect. */
interface LaunchedReplay {
  runtime: ReplayRuntime;
  view: ReplayPresentation;
}

/** The DAP `stopped` reason of a runtime stop, and the text shown next to it (the exception id). */
function dapReason(stop: ReplayStop): { reason: string; text?: string } {
  switch (stop.kind) {
    case 'breakpoint':
      return { reason: 'function breakpoint' };
    case 'diagnostic':
      return { reason: 'exception', text: stop.diagnostics[0].code };
    case 'filter match':
      return { reason: 'exception', text: 'filter' };
    case 'failure':
      return { reason: 'exception', text: 'replay failed' };
    default:
      return { reason: stop.kind };
  }
}

const NOT_LOADED = 'no capture loaded';

/**
 * The `multifd-replay` debug adapter: translates DAP requests into calls on the replay runtime (which replays
 * a capture one packet, page or epoch at a time, and breaks on pages, ramblocks, filter expressions, data
 * writes and diagnostics) and its stops into DAP events; the presentation builds threads, frames and
 * variables. No `vscode` import: it runs inline in the extension host and as a socket server in tests.
 */
export class MultifdReplaySession extends DebugSession {
  private launched: LaunchedReplay | undefined;
  private configuredResolve: () => void = () => undefined;
  private readonly configured = new Promise<void>((r) => (this.configuredResolve = r));

  private readonly events: ReplayEvents = {
    stopped: (stop) => this.sendStopped(stop),
    output: (text, category) => this.sendEvent(new OutputEvent(text, category)),
    finished: () => this.sendEvent(new TerminatedEvent()),
  };

  constructor() {
    super();
    this.setDebuggerLinesStartAt1(true);
    this.setDebuggerColumnsStartAt1(true);
  }

  // ---- lifecycle ------------------------------------------------------------------------------------

  protected override initializeRequest(response: DebugProtocol.InitializeResponse): void {
    response.body = REPLAY_CAPABILITIES;
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
      const runtime = await openReplay(args, this.events);
      this.launched = { runtime, view: new ReplayPresentation(runtime) };
      this.sendEvent(new InitializedEvent());
      await this.configured;
      this.sendResponse(response);
      if (args.stopOnEntry) runtime.stopOnEntry();
      else void runtime.forward('continue');
    } catch (e) {
      this.sendErrorResponse(response, 1001, `multifd-replay: ${errorMessage(e)}`);
      this.sendEvent(new TerminatedEvent());
    }
  }

  protected override disconnectRequest(response: DebugProtocol.DisconnectResponse): void {
    const l = this.launched;
    void (l ? l.runtime.close() : Promise.resolve()).then(() => {
      if (this.launched === l) this.launched = undefined;
      this.sendResponse(response);
    });
  }

  protected override terminateRequest(response: DebugProtocol.TerminateResponse): void {
    this.sendResponse(response);
    this.sendEvent(new TerminatedEvent());
  }

  private sendStopped(stop: ReplayStop): void {
    const l = this.launched;
    if (!l) return;
    l.view.reset();
    const packet = l.runtime.currentPacket();
    if (packet)
      this.sendEvent(
        new DapEvent(REVEAL_EVENT, { capture: l.runtime.capturePath, ...packet } satisfies RevealEventBody),
      );
    const { reason, text } = dapReason(stop);
    const ev = new StoppedEvent(reason, l.view.currentThreadId(), text) as DebugProtocol.StoppedEvent;
    ev.body.allThreadsStopped = true;
    if (stop.description) ev.body.description = stop.description;
    if ('breakpointIds' in stop && stop.breakpointIds.length) ev.body.hitBreakpointIds = stop.breakpointIds;
    this.sendEvent(ev);
  }

  /** Answers a request that needs a launched replay: the error when there is none, else what `answer` gives. */
  private withReplay<R extends DebugProtocol.Response>(
    response: R,
    code: number,
    answer: (l: LaunchedReplay) => R['body'] | Promise<R['body']>,
  ): void {
    const l = this.launched;
    if (!l) return this.sendErrorResponse(response, code, NOT_LOADED, undefined, ErrorDestination.Telemetry);
    Promise.resolve()
      .then(() => answer(l))
      .then(
        (body) => {
          response.body = body;
          this.sendResponse(response);
        },
        (e: unknown) => this.sendErrorResponse(response, code, errorMessage(e), undefined, ErrorDestination.Telemetry),
      );
  }

  // ---- movement -------------------------------------------------------------------------------------

  /** Runs a move on the launched replay (it answers with a stop event), after acknowledging the request. */
  private move(response: DebugProtocol.Response, go: (runtime: ReplayRuntime) => Promise<void>): void {
    const l = this.launched;
    if (!l) return this.sendErrorResponse(response, 1005, NOT_LOADED);
    this.sendResponse(response);
    void go(l.runtime);
  }

  protected override continueRequest(response: DebugProtocol.ContinueResponse): void {
    response.body = { allThreadsContinued: true };
    this.move(response, (r) => r.forward('continue'));
  }

  protected override nextRequest(response: DebugProtocol.NextResponse, args: DebugProtocol.NextArguments): void {
    this.move(response, (r) => r.forward(args.granularity === 'instruction' ? 'page' : 'entry'));
  }

  protected override stepInRequest(response: DebugProtocol.StepInResponse): void {
    this.move(response, (r) => r.forward('page'));
  }

  protected override stepOutRequest(response: DebugProtocol.StepOutResponse): void {
    this.move(response, (r) => r.forward('epoch'));
  }

  protected override stepBackRequest(
    response: DebugProtocol.StepBackResponse,
    args: DebugProtocol.StepBackArguments,
  ): void {
    this.move(response, (r) => r.backward(args.granularity === 'instruction' ? 'page' : 'entry'));
  }

  protected override reverseContinueRequest(response: DebugProtocol.ReverseContinueResponse): void {
    this.move(response, (r) => r.backward('continue'));
  }

  protected override pauseRequest(response: DebugProtocol.PauseResponse): void {
    this.launched?.runtime.pause();
    this.sendResponse(response);
  }

  // ---- threads, stack, variables --------------------------------------------------------------------

  protected override threadsRequest(response: DebugProtocol.ThreadsResponse): void {
    response.body = { threads: this.launched?.view.threads() ?? [] };
    this.sendResponse(response);
  }

  protected override stackTraceRequest(
    response: DebugProtocol.StackTraceResponse,
    args: DebugProtocol.StackTraceArguments,
  ): void {
    const frames = this.launched?.view.stackTrace(args.threadId) ?? [];
    const start = args.startFrame ?? 0;
    const sliced = args.levels ? frames.slice(start, start + args.levels) : frames.slice(start);
    response.body = { stackFrames: sliced, totalFrames: frames.length };
    this.sendResponse(response);
  }

  protected override scopesRequest(response: DebugProtocol.ScopesResponse, args: DebugProtocol.ScopesArguments): void {
    response.body = { scopes: this.launched?.view.scopes(args.frameId) ?? [] };
    this.sendResponse(response);
  }

  protected override variablesRequest(
    response: DebugProtocol.VariablesResponse,
    args: DebugProtocol.VariablesArguments,
  ): void {
    const view = this.launched?.view;
    if (!view) {
      response.body = { variables: [] };
      return this.sendResponse(response);
    }
    view.variables(args.variablesReference).then(
      (variables) => {
        response.body = { variables };
        this.sendResponse(response);
      },
      (e: unknown) => this.sendErrorResponse(response, 1002, errorMessage(e)),
    );
  }

  protected override evaluateRequest(
    response: DebugProtocol.EvaluateResponse,
    args: DebugProtocol.EvaluateArguments,
  ): void {
    this.withReplay(response, 1003, (l) => l.view.evaluate(args.expression));
  }

  protected override readMemoryRequest(
    response: DebugProtocol.ReadMemoryResponse,
    args: DebugProtocol.ReadMemoryArguments,
  ): void {
    this.withReplay(response, 1004, async (l) => {
      const ref = parseMemoryReference(args.memoryReference);
      if (!ref)
        throw new Error(
          `memory reference "${args.memoryReference}" is not a ramblock of this replay (expected ramblock:<name>+0x<offset>)`,
        );
      const r = await l.runtime.readMemory(ref.block, ref.offset + (args.offset ?? 0), args.count);
      const address = `0x${r.address.toString(16)}`;
      if (!r.data) return { address, unreadableBytes: r.unreadableBytes };
      return {
        address,
        data: Buffer.from(r.data.buffer, r.data.byteOffset, r.data.length).toString('base64'),
        unreadableBytes: r.unreadableBytes,
      };
    });
  }

  // ---- breakpoints ---------------------------------------------------------------------------------

  protected override setBreakPointsRequest(
    response: DebugProtocol.SetBreakpointsResponse,
    args: DebugProtocol.SetBreakpointsArguments,
  ): void {
    const message =
      'A capture has no source lines: use a function breakpoint (ramblock:0xOFFSET, a ramblock, or a filter expression) or a data breakpoint on a page';
    response.body = { breakpoints: (args.breakpoints ?? []).map(() => ({ verified: false, message })) };
    this.sendResponse(response);
  }

  protected override setFunctionBreakPointsRequest(
    response: DebugProtocol.SetFunctionBreakpointsResponse,
    args: DebugProtocol.SetFunctionBreakpointsArguments,
  ): void {
    const bps = this.launched?.runtime.breakpoints;
    response.body = {
      breakpoints: bps
        ? bps.setFunctionBreakpoints(args.breakpoints)
        : args.breakpoints.map(() => ({ verified: false, message: NOT_LOADED })),
    };
    this.sendResponse(response);
  }

  protected override setExceptionBreakPointsRequest(
    response: DebugProtocol.SetExceptionBreakpointsResponse,
    args: DebugProtocol.SetExceptionBreakpointsArguments,
  ): void {
    const specs = [...args.filters.map((filterId) => ({ filterId })), ...(args.filterOptions ?? [])];
    const bps = this.launched?.runtime.breakpoints;
    response.body = {
      breakpoints: bps ? bps.setExceptionFilters(specs) : specs.map(() => ({ verified: false, message: NOT_LOADED })),
    };
    this.sendResponse(response);
  }

  protected override dataBreakpointInfoRequest(
    response: DebugProtocol.DataBreakpointInfoResponse,
    args: DebugProtocol.DataBreakpointInfoArguments,
  ): void {
    response.body = this.launched?.view.dataBreakpointInfo(args.name, args.variablesReference) ?? {
      dataId: null,
      description: NOT_LOADED,
    };
    this.sendResponse(response);
  }

  protected override setDataBreakpointsRequest(
    response: DebugProtocol.SetDataBreakpointsResponse,
    args: DebugProtocol.SetDataBreakpointsArguments,
  ): void {
    const bps = this.launched?.runtime.breakpoints;
    response.body = {
      breakpoints: bps
        ? bps.setDataBreakpoints(args.breakpoints)
        : args.breakpoints.map(() => ({ verified: false, message: NOT_LOADED })),
    };
    this.sendResponse(response);
  }

  protected override exceptionInfoRequest(response: DebugProtocol.ExceptionInfoResponse): void {
    const stop = this.launched?.runtime.lastStop ?? { kind: 'entry' };
    if (stop.kind === 'diagnostic') {
      const [d] = stop.diagnostics;
      const details = {
        message: stop.diagnostics.map((x) => `${x.severity}[${x.code}] ${x.message}`).join('\n'),
        typeName: d.severity,
      };
      response.body = { exceptionId: d.code, description: d.message, breakMode: 'always', details };
    } else {
      const { reason, text } = dapReason(stop);
      response.body = { exceptionId: text ?? reason, description: stop.description, breakMode: 'always' };
    }
    this.sendResponse(response);
  }
}
