import { openCapture, type OpenOptions } from '../capture/openCapture';
import type { Capture } from '../capture/capture';
import { parseEndpoint, formatEndpoint } from '../record/address';
import { destinationRequirements, describeRequirements, type DestinationRequirements } from './destinationRequirements';
import { parsePauseAt, planStreams, resolvePause, SendInputError, type PauseAt, type ResolvedPause } from './sendPlan';
import { SendConnectError, StreamSender, type StreamSendReport } from './streamSender';
import { PauseGate } from './pauseGate';
import { RateLimiter } from './rateLimiter';
import { QmpClient } from '../qmp/qmpClient';
import { sleep } from './wait';
import { prepareDestination, waitForDestination, type DestinationOutcome, type QmpPreparation } from './destinationQmp';

/**
 * `mfd send` and the editor's "Send Capture to Destination QEMU…": plays a capture's source→destination bytes into
 * a destination QEMU, one TCP connection per recorded stream, opened in the recorded accept order, all streams
 * sent in parallel (QEMU's destination orders them itself: multifd channels block until the main channel gets
 * there). Cancel with `signal`; follow with `onProgress`.
 */

export interface SendCaptureOptions {
  /** The destination's migration address, "HOST:PORT" (its -incoming tcp:HOST:PORT or migrate-incoming URI). */
  to: string;
  /** Which migration of a pcap, or where a file: stream starts (the CLI's --port, --migration, --offset). */
  open?: OpenOptions;
  /** Caps the total of all streams, in bytes per second. Default: full speed. */
  rateBytesPerSecond?: number;
  /** Stop before a packet or byte offset; needs `onPause`. A string is parsed as `STREAM:PACKET` or `STREAM:@OFFSET`. */
  pauseAt?: PauseAt | string;
  /** Called when every stream has stopped at the pause; sending goes on when the promise resolves. */
  onPause?: (pause: PauseEvent) => Promise<void>;
  /** The destination's QMP unix socket: capabilities and parameters are set from META, migrate-incoming is issued, and query-migrate is read at the end. */
  qmpSocket?: string;
  signal?: AbortSignal;
  onProgress?: (progress: SendProgress) => void;
  /** Human-readable lines as things happen: what the capture requires, connections, early closes, QMP. */
  onLog?: (line: string) => void;
  /** Page size for the multifd index behind a `STREAM:PACKET` pause (default: from the capture). */
  pageSize?: number;
  connectTimeoutMs?: number;
  /** A stream whose destination takes no bytes this long is given up (0: wait for ever, e.g. under a debugger). */
  stallTimeoutMs?: number;
  /** After its last byte, how long a connection may stay open before it is closed here. */
  closeTimeoutMs?: number;
  progressIntervalMs?: number;
  chunkBytes?: number;
}

export type SendPhase = 'preparing' | 'connecting' | 'sending' | 'paused' | 'finishing' | 'done';

export interface SendProgress {
  phase: SendPhase;
  sentBytes: number;
  totalBytes: number;
  elapsedMs: number;
  streams: { id: number; kind: string; sent: number; bytes: number }[];
}

export interface PauseEvent extends ResolvedPause {
  /** What each stream had handed over when all stopped. */
  sentByStream: { id: number; sent: number }[];
  message: string;
}

export interface SendResult {
  capture: string;
  to: string;
  requirements: DestinationRequirements;
  streams: StreamSendReport[];
  /** Recorded connections that carried nothing to send. */
  skippedStreams: number[];
  totalBytes: number;
  sentBytes: number;
  pause?: ResolvedPause;
  /** Milliseconds since the first connection was opened. */
  timings: { allWrittenMs?: number; allClosedMs?: number; destinationCompletedMs?: number };
  qmp?: { preparation: QmpPreparation; outcome?: DestinationOutcome };
  warnings: string[];
  /** Why the send did not work out: early closes, stalls, the destination's error. Empty when ok. */
  problems: string[];
  cancelled: boolean;
  /** No problem was seen: every byte was handed over and nothing failed. */
  ok: boolean;
  /**
   * The destination showed that it took the bytes: it closed every connection after the last byte, or --qmp's
   * query-migrate said completed. Bytes handed over are not bytes read: a small capture fits in the socket
   * buffers of a destination that reads nothing.
   */
  confirmed: boolean;
  /** Why an ok send is not confirmed. */
  unconfirmed?: string;
}

export { SendInputError } from './sendPlan';
export { SendConnectError } from './streamSender';

const MISMATCH_HINT =
  'a destination that stops reading early usually runs with a different machine, RAM size, -uuid or migration capabilities/parameters than the recorded one';

export async function sendCapture(capturePath: string, options: SendCaptureOptions): Promise<SendResult> {
  const to = endpoint(options.to);
  const capture = await openCapture(capturePath, options.open);
  try {
    return await sendOpenedCapture(capture, { ...options, to: formatEndpoint(to) });
  } finally {
    await capture.source.close();
  }
}

function endpoint(text: string): { host: string; port: number } {
  try {
    const e = parseEndpoint(text, '--to');
    if (e.port === 0) throw new Error(`--to: port 0 is not a destination port`);
    return e;
  } catch (e) {
    throw new SendInputError((e as Error).message);
  }
}

export async function sendOpenedCapture(capture: Capture, options: SendCaptureOptions): Promise<SendResult> {
  const log = options.onLog ?? (() => undefined);
  const to = endpoint(options.to);
  const signal = options.signal;
  const requirements = destinationRequirements(capture.meta);
  for (const line of describeRequirements(requirements)) log(line);

  const plan = await planStreams(capture);
  const warnings = [...plan.warnings];
  for (const w of plan.warnings) log(`warning: ${w}`);
  const pauseAt = typeof options.pauseAt === 'string' ? parsePauseAt(options.pauseAt) : options.pauseAt;
  if (pauseAt && !options.onPause)
    throw new SendInputError('a pause point needs someone to continue: no onPause handler was given');
  const pause = pauseAt ? await resolvePause(capture, plan, pauseAt, options.pageSize) : undefined;
  const totalBytes = plan.streams.reduce((n, s) => n + s.bytes.length, 0);
  const result: SendResult = {
    capture: capture.path,
    to: formatEndpoint(to),
    requirements,
    streams: [],
    skippedStreams: plan.skipped,
    totalBytes,
    sentBytes: 0,
    pause,
    timings: {},
    warnings,
    problems: [],
    cancelled: false,
    ok: false,
    confirmed: false,
  };
  if (plan.skipped.length) log(`streams ${plan.skipped.join(', ')} carried no source→destination bytes: not opened`);

  let qmp: QmpClient | undefined;
  const gate = new PauseGate();
  const senders: StreamSender[] = [];
  const runs: Promise<StreamSendReport>[] = [];
  let phase: SendPhase = 'preparing';
  const startedAt = performance.now();
  const progress = (): void =>
    options.onProgress?.({
      phase: gate.paused ? 'paused' : phase,
      sentBytes: senders.reduce((n, s) => n + s.report.sent, 0),
      totalBytes,
      elapsedMs: Math.round(performance.now() - startedAt),
      streams: plan.streams.map((p) => {
        const s = senders.find((x) => x.plan.id === p.id);
        return { id: p.id, kind: p.kind, sent: s?.report.sent ?? 0, bytes: p.bytes.length };
      }),
    });
  const onAbort = (): void => {
    result.cancelled = true;
    for (const s of senders) s.cancel();
    gate.open();
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  const timers: NodeJS.Timeout[] = [];
  try {
    if (signal?.aborted) throw new SendConnectError('cancelled before sending');
    progress();
    if (options.qmpSocket) {
      qmp = await QmpClient.connect(options.qmpSocket, options.connectTimeoutMs ?? 10_000);
      const uri = `tcp:${formatEndpoint(to)}`;
      const preparation = await prepareDestination(
        qmp,
        requirements,
        typeof capture.meta.parameters === 'object' && capture.meta.parameters !== null,
        uri,
      );
      result.qmp = { preparation };
      log(`destination: ${preparation.version}`);
      const set = [
        ...Object.entries(preparation.capabilitiesSet).map(([k, v]) => `${k}=${v}`),
        ...Object.entries(preparation.parametersSet).map(([k, v]) => `${k}=${JSON.stringify(v)}`),
      ];
      log(`destination: set ${set.length ? set.join(', ') : 'nothing (already as recorded)'}; ${preparation.incoming}`);
      for (const w of preparation.warnings) {
        warnings.push(w);
        log(`warning: ${w}`);
      }
    }

    const limiter = options.rateBytesPerSecond ? new RateLimiter(options.rateBytesPerSecond) : undefined;
    let pauseDone: Promise<void> | undefined;
    const ctx = {
      host: to.host,
      port: to.port,
      connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
      closeTimeoutMs: options.closeTimeoutMs ?? 30_000,
      chunkBytes: options.chunkBytes ?? 256 << 10,
      limiter,
      gate,
      signal,
      startedAt,
      pauseReached: (sender: StreamSender): Promise<void> => {
        gate.close();
        pauseDone ??= (async () => {
          // Let the other streams reach their next chunk boundary before showing the pause.
          await new Promise((r) => setTimeout(r, 50));
          const event: PauseEvent = {
            ...pause!,
            sentByStream: senders.map((s) => ({ id: s.plan.id, sent: s.report.sent })),
            message: `paused before stream ${sender.plan.id}${pause!.packet !== undefined ? ` packet ${pause!.packet}` : ''} (stream offset ${pause!.offset}, capture file offset ${pause!.fileOffset})`,
          };
          log(event.message);
          progress();
          try {
            await Promise.race([
              options.onPause!(event),
              new Promise<void>((r) => signal?.addEventListener('abort', () => r(), { once: true })),
            ]);
          } finally {
            for (const s of senders) s.lastProgress = performance.now();
            gate.open();
          }
        })();
        return pauseDone;
      },
    };

    phase = 'connecting';
    timers.push(setInterval(progress, options.progressIntervalMs ?? 200));
    const stallMs = options.stallTimeoutMs ?? 60_000;
    timers.push(
      setInterval(() => {
        const now = performance.now();
        for (const s of senders) {
          if (gate.paused) s.lastProgress = now;
          else if (stallMs > 0 && s.sending && now - s.lastProgress > stallMs) s.stall(now - s.lastProgress);
        }
      }, 250),
    );
    // One connection at a time, in accept order; each starts sending as soon as it is up, as QEMU's source does.
    for (const p of plan.streams) {
      const sender = new StreamSender(p, ctx);
      await sender.connect();
      senders.push(sender);
      log(`stream ${p.id} (${p.kind}) connected, ${p.bytes.length} bytes to send`);
      runs.push(sender.run());
    }
    phase = 'sending';
    let sending = true;
    // With the monitor, a destination that has failed is noticed at once rather than by timeouts.
    const watch = qmp
      ? (async () => {
          while (sending && !signal?.aborted) {
            // No reply is not failure: a destination stopped in a debugger does not answer its monitor.
            const st = await qmp!
              .execute<Record<string, unknown>>('query-migrate')
              .catch(() => ({ status: qmp!.closed ? 'exited' : 'no reply' }));
            if (st.status === 'failed' || st.status === 'exited') {
              for (const s of senders)
                s.abandon(
                  `the destination's migration ${st.status === 'failed' ? 'failed' : 'monitor went away (QEMU exited?)'}`,
                );
              return;
            }
            await sleep(250, signal);
          }
        })()
      : undefined;
    const reports = await Promise.all(
      runs.map((r) =>
        r.then((rep) => {
          if (rep.outcome === 'closed-early' || rep.outcome === 'stalled') {
            log(`stream ${rep.id} (${rep.kind}): ${rep.detail}`);
            for (const s of senders) s.abandon(`stream ${rep.id} had failed`);
          }
          return rep;
        }),
      ),
    );
    sending = false;
    await watch;
    phase = 'finishing';
    const written = reports.map((r) => r.allWrittenMs).filter((x): x is number => x !== undefined);
    if (written.length === reports.length) result.timings.allWrittenMs = Math.max(...written);
    const closed = reports.map((r) => r.closedMs).filter((x): x is number => x !== undefined);
    if (closed.length === reports.length) result.timings.allClosedMs = Math.max(...closed);
    if (qmp && result.qmp) {
      const outcome = await waitForDestination(qmp, signal?.aborted ? 1 : (options.closeTimeoutMs ?? 30_000), signal);
      result.qmp.outcome = outcome;
      if (outcome.completedAt !== undefined)
        result.timings.destinationCompletedMs = Math.round(outcome.completedAt - startedAt);
      log(`destination query-migrate: ${outcome.status}${outcome.error ? `: ${outcome.error}` : ''}`);
    }
  } catch (e) {
    for (const s of senders) s.cancel();
    await Promise.allSettled(runs);
    if (result.cancelled && e instanceof SendConnectError) {
      // Cancelled while connecting: report what there is.
    } else throw e;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    for (const t of timers) clearInterval(t);
    qmp?.close();
  }

  result.streams = senders.map((s) => s.report);
  for (const p of plan.streams.slice(senders.length))
    result.streams.push({
      id: p.id,
      kind: p.kind,
      bytes: p.bytes.length,
      sent: 0,
      outcome: 'cancelled',
      returnPath: { received: 0, recorded: p.recordedReturnPath.length },
    });
  result.sentBytes = result.streams.reduce((n, s) => n + s.sent, 0);
  for (const s of result.streams) {
    if (s.outcome === 'closed-early' || s.outcome === 'stalled') {
      result.problems.push(
        `stream ${s.id} (${s.kind}): ${s.detail} (capture file offset ${s.stopFileOffset}); ${MISMATCH_HINT}`,
      );
    } else if (s.outcome === 'abandoned')
      result.problems.push(`stream ${s.id} (${s.kind}): ${s.detail} (capture file offset ${s.stopFileOffset})`);
    else if (s.outcome === 'sent-still-open') warnings.push(`stream ${s.id} (${s.kind}): ${s.detail}`);
  }
  const outcome = result.qmp?.outcome;
  if (outcome && outcome.status !== 'completed') {
    result.problems.push(
      `the destination's migration status is "${outcome.status}"${outcome.error ? `: ${outcome.error}` : ''}`,
    );
  }
  if (result.cancelled) result.problems.push('cancelled');
  result.ok =
    !result.cancelled &&
    result.problems.length === 0 &&
    result.streams.every((s) => s.outcome === 'sent' || s.outcome === 'sent-still-open');
  const stillOpen = result.streams.filter((s) => s.outcome === 'sent-still-open').length;
  result.confirmed = result.ok && (outcome?.status === 'completed' || stillOpen === 0);
  if (result.ok && !result.confirmed) {
    result.unconfirmed =
      `the destination never closed ${stillOpen} of ${result.streams.length} connection(s) after their last byte, and no --qmp result says the migration completed: ` +
      `it may not have read them (a capture this small fits in the socket buffers); pass --qmp to know`;
  }
  phase = 'done';
  progress();
  return result;
}
