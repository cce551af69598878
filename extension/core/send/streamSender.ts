import { connect, type Socket } from 'node:net';
import type { PlannedStream } from './sendPlan';
import type { PauseGate } from './pauseGate';
import type { RateLimiter } from './rateLimiter';
import { hex } from '../util/bytes';

/**
 * Sends one recorded source→destination stream over its own TCP connection, exactly as captured, and reads
 * whatever the destination sends back (the return path) without ever replaying it. Never throws once
 * connected: how the stream ended is its `outcome`.
 */

export type StreamOutcome =
  /** Every byte went out and the destination closed the connection after them. */
  | 'sent'
  /** Every byte went out; the destination kept the connection open past the close timeout, so it was closed here. */
  | 'sent-still-open'
  /** The destination closed or reset the connection before taking every byte. */
  | 'closed-early'
  /** The destination stopped reading for longer than the stall timeout. */
  | 'stalled'
  /** Stopped here because the migration had already failed (another stream, or the destination's status). */
  | 'abandoned'
  | 'cancelled'
  /** Nothing to send: the recorded connection carried no source→destination bytes. */
  | 'skipped';

export interface StreamSendReport {
  id: number;
  kind: string;
  /** Recorded source→destination bytes. */
  bytes: number;
  /** Bytes handed to the connection: the destination read at most this many. */
  sent: number;
  outcome: StreamOutcome;
  /** What ended the connection, in words, when it was not the normal end. */
  detail?: string;
  /** Capture file offset of the first byte not handed over (for `closed-early` and `stalled`). */
  stopFileOffset?: number;
  returnPath: { received: number; recorded: number; matchesRecording?: boolean; head?: string };
  /** Milliseconds since the send started. */
  connectedMs?: number;
  allWrittenMs?: number;
  closedMs?: number;
}

export interface SenderContext {
  host: string;
  port: number;
  connectTimeoutMs: number;
  closeTimeoutMs: number;
  chunkBytes: number;
  limiter?: RateLimiter;
  gate: PauseGate;
  signal?: AbortSignal;
  startedAt: number;
  /** Called once when the stream reaches its pause offset; resolves when sending may go on. */
  pauseReached(sender: StreamSender): Promise<void>;
}

/** Return-path bytes kept for the comparison with the recording; beyond this they are only counted. */
const RETURN_PATH_KEEP = 16 << 20;

export class SendConnectError extends Error {}

export class StreamSender {
  readonly report: StreamSendReport;
  /** performance.now() of the last byte the destination took (for the stall watchdog). */
  lastProgress = performance.now();
  private socket?: Socket;
  private stopped = false;
  private peerEnded = false;
  private writeError?: string;
  private allWritten = false;
  private closed = false;
  private readonly returned: Buffer[] = [];
  private returnedKept = 0;
  private wake?: () => void;

  constructor(
    readonly plan: PlannedStream,
    private readonly ctx: SenderContext,
  ) {
    this.report = {
      id: plan.id,
      kind: plan.kind,
      bytes: plan.bytes.length,
      sent: 0,
      outcome: plan.bytes.length ? 'cancelled' : 'skipped',
      returnPath: { received: 0, recorded: plan.recordedReturnPath.length },
    };
  }

  /** True while bytes remain to be handed over (the watchdog only watches these). */
  get sending(): boolean {
    return this.socket !== undefined && !this.allWritten && !this.stopped && !this.closed;
  }

  private since(): number {
    return Math.round(performance.now() - this.ctx.startedAt);
  }

  async connect(): Promise<void> {
    const { host, port, connectTimeoutMs, signal } = this.ctx;
    const what = `stream ${this.plan.id} (${this.plan.kind})`;
    const s = connect({ host, port });
    this.socket = s;
    await new Promise<void>((resolve, reject) => {
      const fail = (message: string): void => {
        cleanup();
        s.destroy();
        reject(new SendConnectError(message));
      };
      const onError = (e: Error): void =>
        fail(
          `cannot connect ${what} to ${host}:${port}: ${e.message}. Is the destination listening (-incoming tcp:${host}:${port}, or -incoming defer and migrate-incoming; --qmp does that)?`,
        );
      const onAbort = (): void => fail(`cancelled while connecting ${what}`);
      const timer = setTimeout(
        () => fail(`cannot connect ${what} to ${host}:${port}: no answer within ${connectTimeoutMs} ms`),
        connectTimeoutMs,
      );
      const cleanup = (): void => {
        clearTimeout(timer);
        s.off('error', onError);
        signal?.removeEventListener('abort', onAbort);
      };
      s.once('error', onError);
      signal?.addEventListener('abort', onAbort, { once: true });
      s.once('connect', () => {
        cleanup();
        resolve();
      });
    });
    this.report.connectedMs = this.since();
    this.lastProgress = performance.now();
    s.on('data', (b: Buffer) => this.onReturnPath(b));
    s.on('drain', () => (this.lastProgress = performance.now()));
    s.on('end', () => this.onPeerEnd());
    s.on('error', (e: NodeJS.ErrnoException) => this.onError(e));
    s.on('close', () => {
      this.closed = true;
      this.report.closedMs ??= this.since();
      this.wakeUp();
    });
  }

  private onReturnPath(b: Buffer): void {
    this.report.returnPath.received += b.length;
    if (this.returnedKept < RETURN_PATH_KEEP) {
      this.returned.push(b);
      this.returnedKept += b.length;
    }
  }

  private unflushed(): boolean {
    return this.report.sent < this.plan.bytes.length || (this.socket?.writableLength ?? 0) > 0;
  }

  private onPeerEnd(): void {
    this.peerEnded = true;
    if (this.unflushed() && !this.stopped)
      this.stop(
        'closed-early',
        `the destination closed the connection after ${this.report.sent} of ${this.plan.bytes.length} bytes`,
      );
  }

  private onError(e: NodeJS.ErrnoException): void {
    const text = e.code ? `${e.code}` : e.message;
    this.writeError ??= text;
    if (this.stopped) return;
    if (this.unflushed())
      this.stop(
        'closed-early',
        `the destination ${e.code === 'ECONNRESET' ? 'reset' : 'broke'} the connection (${text}) after ${this.report.sent} of ${this.plan.bytes.length} bytes`,
      );
    else if (e.code === 'ECONNRESET')
      this.stop(
        'closed-early',
        'the destination reset the connection after every byte was handed over: it closed with bytes still unread',
      );
  }

  private stop(outcome: StreamOutcome, detail: string): void {
    if (this.stopped) return;
    this.stopped = true;
    this.report.outcome = outcome;
    this.report.detail = detail;
    if (outcome !== 'cancelled') this.report.stopFileOffset = this.plan.bytes.fileOffsetOf(this.report.sent);
    this.socket?.destroy();
    this.wakeUp();
  }

  /** Watchdog and cancel: end the stream now. */
  stall(ms: number): void {
    this.stop(
      'stalled',
      `the destination took no bytes for ${Math.round(ms / 1000)} s at stream offset ${this.report.sent} of ${this.plan.bytes.length}`,
    );
  }

  /** The migration failed elsewhere: stop sending, or stop waiting for the destination to close. */
  abandon(why: string): void {
    if (this.stopped || this.closed) return;
    if (this.allWritten) {
      this.stopped = true;
      this.report.outcome = 'sent-still-open';
      this.report.detail = `every byte was handed over; the destination had not closed the connection when ${why}; closed here`;
      this.socket?.destroy();
      this.wakeUp();
    } else
      this.stop('abandoned', `stopped after ${this.report.sent} of ${this.plan.bytes.length} bytes because ${why}`);
  }

  cancel(): void {
    this.stop('cancelled', `cancelled after ${this.report.sent} of ${this.plan.bytes.length} bytes`);
  }

  private wakeUp(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  /** Resolves on 'drain', on close, or when stopped. */
  private waitFor(event: 'drain' | 'finish' | 'close', timeoutMs = 0): Promise<boolean> {
    const s = this.socket!;
    if (this.stopped || this.closed) return Promise.resolve(event === 'close');
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const done = (ok: boolean): void => {
        if (timer) clearTimeout(timer);
        s.off(event, onEvent);
        this.wake = undefined;
        resolve(ok);
      };
      const onEvent = (): void => done(true);
      s.once(event, onEvent);
      this.wake = () => done(event === 'close' && this.closed);
      if (timeoutMs > 0) timer = setTimeout(() => done(false), timeoutMs);
    });
  }

  /** Sends every byte (pausing where asked), half-closes, and waits for the destination to close. */
  async run(): Promise<StreamSendReport> {
    const s = this.socket!;
    const total = this.plan.bytes.length;
    const pauseAt = this.plan.pauseOffset;
    let pos = 0;
    let paused = false;
    while (pos < total && !this.stopped) {
      if (pauseAt === pos && !paused) {
        paused = true;
        await this.ctx.pauseReached(this);
      }
      await this.ctx.gate.pass();
      if (this.stopped) break;
      let end = Math.min(total, pos + this.ctx.chunkBytes);
      if (pauseAt !== undefined && pos < pauseAt) end = Math.min(end, pauseAt);
      const data = await this.plan.bytes.read(pos, end);
      if (data.length !== end - pos) {
        this.stop('closed-early', `the capture could not be read at stream offset ${pos}`);
        break;
      }
      if (this.ctx.limiter) await this.ctx.limiter.take(data.length, this.ctx.signal);
      if (this.stopped) break;
      const more = s.write(data);
      pos = end;
      this.report.sent = pos;
      if (more) this.lastProgress = performance.now();
      else await this.waitFor('drain');
    }
    if (!this.stopped) {
      this.allWritten = true;
      s.end();
      if (s.writableLength > 0 || !s.writableFinished) await this.waitFor('finish');
      this.report.allWrittenMs = this.since();
      if (!this.stopped) {
        const closed = this.closed || (await this.waitFor('close', this.ctx.closeTimeoutMs));
        if (!this.stopped) {
          if (closed) this.report.outcome = 'sent';
          else {
            this.report.outcome = 'sent-still-open';
            this.report.detail = `every byte was handed over, but the destination had not closed the connection ${Math.round(this.ctx.closeTimeoutMs / 1000)} s later; closed here`;
            s.destroy();
          }
        }
      }
    }
    if (!this.closed) await this.waitFor('close', 2000);
    await this.compareReturnPath();
    return this.report;
  }

  private async compareReturnPath(): Promise<void> {
    const rp = this.report.returnPath;
    const got = Buffer.concat(this.returned);
    if (got.length) rp.head = hex(got.subarray(0, 32), 32);
    if (rp.received > RETURN_PATH_KEEP) return; // counted, not compared
    if (rp.received !== rp.recorded) {
      rp.matchesRecording = false;
      return;
    }
    const want = await this.plan.recordedReturnPath.read(0, rp.recorded);
    rp.matchesRecording = Buffer.from(want.buffer, want.byteOffset, want.length).equals(got);
  }
}
