import { EventEmitter } from 'node:events';
import { createServer, connect, type Server, type Socket, type AddressInfo } from 'node:net';
import { promises as fsp } from 'node:fs';
import type { Direction } from '../capture/mfdFormat';
import { formatEndpoint, type Endpoint } from './address';
import { MfdFileWriter } from '../capture/mfdWriter';

/**
 * A transparent TCP proxy that writes every connection it forwards into a `.mfd` capture: one stream per
 * accepted connection (numbered in accept order), DATA records in both directions, OPEN and CLOSE around them.
 * Each chunk read from a socket becomes exactly one DATA record; records are written whole and in order
 * (several per writev when they queue up), so a recorder killed at any moment leaves a file whose only damage
 * is a cut-off last record. A chunk is forwarded to its peer only once its record is in the file: after a
 * `kill -9` the capture holds every byte either QEMU received.
 */

export interface RecorderOptions {
  listen: Endpoint;
  forward: Endpoint;
  out: string;
  /** Extra META keys (pageSize, source, destination, parameters, …); `tool` and `created` are filled in. */
  meta?: Record<string, unknown>;
  /** Replace an existing capture file. */
  overwrite?: boolean;
  /** Pause the sockets while more than this many bytes wait to be written to the capture. */
  highWaterBytes?: number;
  /** Resume them once the queue is below this. */
  lowWaterBytes?: number;
  /** A destination that has not completed the TCP handshake by then is given up on (the stream is reset). */
  connectTimeoutMs?: number;
}

export type StreamState = 'connecting' | 'open' | 'closed';

export interface StreamStats {
  id: number;
  client: string;
  server: string;
  state: StreamState;
  /** Bytes forwarded source → destination and destination → source. */
  toDestination: number;
  toSource: number;
  closeReason?: string;
}

export interface RecorderStats {
  streams: StreamStats[];
  /** Bytes of the capture file written so far. */
  fileBytes: number;
  /** Bytes queued for the capture file, not yet written. */
  pendingBytes: number;
  /** Times the sockets were paused because the capture file fell behind. */
  filePauses: number;
  recordError?: string;
}

export interface RecorderEvents {
  open: [StreamStats];
  close: [StreamStats];
  /** A connection failed (destination refused it, a socket error): the message says what happened. */
  streamError: [Error, StreamStats];
  /** The capture file could not be written; forwarding goes on, recording has stopped. */
  recordError: [Error];
}

const DEFAULT_HIGH_WATER = 16 << 20;
const DEFAULT_LOW_WATER = 4 << 20;
const DEFAULT_CONNECT_TIMEOUT_MS = 30_000;

/** One direction of a connection: bytes read from `from` are recorded, then written to `to`. */
interface Pipe {
  from: Socket;
  to: Socket;
  direction: Direction;
  /** `to` did not accept more (its write returned false): wait for its 'drain'. */
  blockedByPeer: boolean;
  ended: boolean;
  /** Settles once every chunk read so far is recorded and handed to `to`, in order. */
  forwarded: Promise<void>;
}

interface Connection {
  stats: StreamStats;
  client: Socket;
  upstream: Socket;
  pipes: Pipe[];
  finished: boolean;
}

export class Recorder extends EventEmitter<RecorderEvents> {
  private server: Server | undefined;
  private writer: MfdFileWriter | undefined;
  private readonly connections: Connection[] = [];
  private readonly connectQueue: Connection[] = [];
  private connecting = false;
  private nextId = 0;
  private pending = 0;
  private filePaused = false;
  private filePauses = 0;
  private recording = true;
  private recordFailure: Error | undefined;
  private finalFileBytes = 0;
  private readonly idleWaiters: (() => void)[] = [];
  private readonly highWater: number;
  private readonly lowWater: number;

  constructor(readonly options: RecorderOptions) {
    super();
    this.highWater = options.highWaterBytes ?? DEFAULT_HIGH_WATER;
    this.lowWater = Math.min(options.lowWaterBytes ?? DEFAULT_LOW_WATER, this.highWater);
  }

  /** Creates the capture (META first), then listens. Resolves with the address actually bound (port 0 picks one). */
  async start(): Promise<Endpoint> {
    const writer = await MfdFileWriter.create(this.options.out, this.options.overwrite ?? false);
    this.writer = writer;
    this.track(writer.meta({ tool: 'mfd record', created: new Date().toISOString(), ...this.options.meta }), 0);
    const server = createServer({ allowHalfOpen: true, pauseOnConnect: true }, (s) => this.accept(s));
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(this.options.listen.port, this.options.listen.host, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (e) {
      // Nothing was recorded: do not leave an empty capture behind.
      await writer.finish().catch(() => undefined);
      await fsp.unlink(this.options.out).catch(() => undefined);
      this.writer = undefined;
      throw new Error(`cannot listen on ${formatEndpoint(this.options.listen)}: ${(e as Error).message}`);
    }
    this.server = server;
    return this.address;
  }

  get address(): Endpoint {
    const a = this.server?.address() as AddressInfo | null | undefined;
    return a ? { host: a.address, port: a.port } : this.options.listen;
  }

  stats(): RecorderStats {
    return {
      streams: this.connections.map((c) => ({ ...c.stats })),
      fileBytes: this.writer?.bytesWritten ?? this.finalFileBytes,
      pendingBytes: this.pending,
      filePauses: this.filePauses,
      recordError: this.recordFailure?.message,
    };
  }

  /** A NOTE record at this point in time ("migration started", "guest paused"). */
  note(text: string): void {
    if (this.writer && this.recording) this.track(this.writer.note(text), 0);
  }

  /** A further META record: its keys override earlier ones (results known only at the end, for example). */
  meta(obj: Record<string, unknown>): void {
    if (this.writer && this.recording) this.track(this.writer.meta(obj), 0);
  }

  /** Resolves once no connection is open (immediately if none is), or after `timeoutMs`; true if idle. */
  whenIdle(timeoutMs = Infinity): Promise<boolean> {
    if (this.activeCount() === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = Number.isFinite(timeoutMs) ? setTimeout(() => resolve(false), timeoutMs) : undefined;
      this.idleWaiters.push(() => {
        if (timer) clearTimeout(timer);
        resolve(true);
      });
    });
  }

  activeCount(): number {
    return this.connections.filter((c) => !c.finished).length;
  }

  /**
   * Stops listening, cuts connections still open or still connecting (each gets its CLOSE record), and
   * flushes and closes the capture. Connections are cut first: the server's close waits for every accepted
   * socket, so a stalled migration would otherwise keep the recorder from ever stopping.
   */
  async stop(): Promise<RecorderStats> {
    const server = this.server;
    this.server = undefined;
    const closed = server ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve();
    for (const c of this.connections) {
      if (!c.finished) this.finish(c, 'error: the recorder was stopped while the connection was open', true);
    }
    await closed;
    const writer = this.writer;
    this.writer = undefined;
    if (writer) {
      await writer.finish().catch((e: Error) => this.failRecording(e));
      this.finalFileBytes = writer.bytesWritten;
    }
    return this.stats();
  }

  private accept(client: Socket): void {
    const id = this.nextId++;
    const stats: StreamStats = {
      id,
      client: formatEndpoint({ address: client.remoteAddress, port: client.remotePort }),
      server: formatEndpoint(this.options.forward),
      state: 'connecting',
      toDestination: 0,
      toSource: 0,
    };
    // The upstream socket is created only when its turn to connect comes (see connectNext).
    const c: Connection = { stats, client, upstream: undefined as unknown as Socket, pipes: [], finished: false };
    this.connections.push(c);
    void this.record((w) => w.open(id, { client: stats.client, server: stats.server }));
    client.setNoDelay(true);
    client.on('error', (e) => this.finish(c, reasonOf(e), isReset(e)));
    client.on('close', () => this.maybeClosed(c));
    this.connectQueue.push(c);
    this.connectNext();
  }

  /**
   * Connections to the destination are opened one at a time, in accept order, so the destination accepts
   * them in the order the source opened them: QEMU before 8.0 takes its first connection for the main channel.
   */
  private connectNext(): void {
    if (this.connecting) return;
    const c = this.connectQueue.shift();
    if (!c) return;
    if (c.finished) return this.connectNext();
    this.connecting = true;
    const { host, port } = this.options.forward;
    const upstream = connect({ host, port, allowHalfOpen: true });
    c.upstream = upstream;
    upstream.setNoDelay(true);
    let connected = false;
    let settled = false;
    // The next connection may start once this one connected, failed, timed out or was cut (reset by the source, stop()).
    const done = (): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      this.connecting = false;
      this.connectNext();
    };
    const timeoutMs = this.options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    const timer = setTimeout(() => {
      done();
      const err = new Error(
        `stream ${c.stats.id}: the destination ${c.stats.server} did not complete the connection within ${timeoutMs / 1000} s; ` +
          `is the destination QEMU listening (migrate-incoming)? The source's connection was reset.`,
      );
      this.finish(c, `error: connect to ${c.stats.server} timed out after ${timeoutMs} ms`, true, err);
    }, timeoutMs);
    upstream.once('connect', () => {
      connected = true;
      done();
      if (c.finished) return void upstream.destroy();
      c.stats.state = 'open';
      c.pipes = [this.pipe(c, c.client, upstream, 'toDestination'), this.pipe(c, upstream, c.client, 'toSource')];
      this.emit('open', { ...c.stats });
    });
    upstream.on('error', (e) => {
      if (!connected) {
        done();
        const code = (e as NodeJS.ErrnoException).code;
        const what = code === 'ECONNREFUSED' ? 'refused the connection' : `could not be reached`;
        const err = new Error(
          `stream ${c.stats.id}: the destination ${c.stats.server} ${what} (${code ?? e.message}); ` +
            `is the destination QEMU listening (migrate-incoming)? The source's connection was reset.`,
        );
        this.finish(c, `error: connect to ${c.stats.server} failed: ${code ?? e.message}`, true, err);
        return;
      }
      this.finish(c, reasonOf(e), isReset(e));
    });
    upstream.on('close', () => {
      done();
      this.maybeClosed(c);
    });
  }

  private pipe(c: Connection, from: Socket, to: Socket, direction: Direction): Pipe {
    const p: Pipe = { from, to, direction, blockedByPeer: false, ended: false, forwarded: Promise.resolve() };
    const counter = direction === 'toDestination' ? 'toDestination' : 'toSource';
    const forward = (chunk: Buffer): void => {
      if (to.destroyed) return;
      if (!to.write(chunk)) {
        p.blockedByPeer = true;
        from.pause();
      }
    };
    from.on('data', (chunk: Buffer) => {
      c.stats[counter] += chunk.length;
      // Recorded before it is forwarded: the capture never misses bytes the peer has seen. Chained, so chunks
      // reach the peer in the order they were read. A failed record (recording stopped) is forwarded anyway.
      const written = this.record((w) => w.data(c.stats.id, chunk, direction), chunk.length);
      p.forwarded = p.forwarded
        .then(() => written)
        .then(
          () => forward(chunk),
          () => forward(chunk),
        );
    });
    to.on('drain', () => {
      p.blockedByPeer = false;
      this.resumePipe(p);
    });
    from.on('end', () => {
      p.ended = true;
      void p.forwarded.then(() => {
        if (!to.destroyed) to.end();
      });
    });
    this.resumePipe(p);
    return p;
  }

  private resumePipe(p: Pipe): void {
    if (!p.blockedByPeer && !this.filePaused && !p.from.destroyed) p.from.resume();
  }

  private finish(c: Connection, reason: string, reset: boolean, error?: Error): void {
    if (c.finished) return;
    c.finished = true;
    c.stats.state = 'closed';
    c.stats.closeReason = reason;
    void this.record((w) => w.close(c.stats.id, reason));
    // Pass a reset on, so each QEMU sees its peer vanish as it would without the proxy.
    for (const s of [c.client, c.upstream]) {
      if (!s || s.destroyed) continue;
      if (reset && typeof s.resetAndDestroy === 'function' && !s.connecting) s.resetAndDestroy();
      else s.destroy();
    }
    if (error) this.emit('streamError', error, { ...c.stats });
    this.emit('close', { ...c.stats });
    if (this.activeCount() === 0) for (const w of this.idleWaiters.splice(0)) w();
  }

  /** Both sockets closed without an error: an orderly end in both directions. */
  private maybeClosed(c: Connection): void {
    if (c.finished) return;
    if (!c.client.destroyed || !c.upstream?.destroyed) return;
    const clean = c.pipes.length === 2 && c.pipes.every((p) => p.ended);
    this.finish(c, clean ? 'eof' : 'reset', false);
  }

  /** Queues a record; the promise settles once it is in the file (at once when recording has stopped). */
  private record(write: (w: MfdFileWriter) => Promise<void>, size = 0): Promise<void> {
    if (!this.writer || !this.recording) return Promise.resolve();
    const done = write(this.writer);
    this.track(done, size);
    return done;
  }

  /** Counts bytes queued for the file and pauses every socket while the queue is too long. */
  private track(done: Promise<void>, size: number): void {
    this.pending += size;
    if (this.pending > this.highWater && !this.filePaused) {
      this.filePaused = true;
      this.filePauses++;
      for (const c of this.connections) for (const p of c.pipes) p.from.pause();
    }
    done.then(
      () => this.written(size),
      (e: Error) => {
        this.written(size);
        this.failRecording(e);
      },
    );
  }

  private written(size: number): void {
    this.pending -= size;
    if (this.filePaused && this.pending <= this.lowWater) {
      this.filePaused = false;
      for (const c of this.connections) for (const p of c.pipes) this.resumePipe(p);
    }
  }

  private failRecording(e: Error): void {
    if (this.recordFailure) return;
    this.recordFailure = e;
    this.recording = false;
    this.emit(
      'recordError',
      new Error(`writing ${this.options.out} failed: ${e.message}; forwarding continues, recording stopped`),
    );
  }
}

function isReset(e: Error): boolean {
  const code = (e as NodeJS.ErrnoException).code;
  return code === 'ECONNRESET' || code === 'EPIPE';
}

function reasonOf(e: Error): string {
  return isReset(e) ? 'reset' : `error: ${e.message}`;
}
