import { connect, type Socket } from 'node:net';
import { EventEmitter } from 'node:events';

/**
 * A small QMP client over a unix socket: one JSON object per line each way. Commands carry an id so replies
 * are matched even when events arrive in between; events are kept and emitted.
 */

export interface QmpEvent {
  event: string;
  data?: Record<string, unknown>;
  timestamp?: { seconds: number; microseconds: number };
}

export class QmpError extends Error {
  constructor(
    readonly command: string,
    readonly errorClass: string,
    readonly desc: string,
  ) {
    super(`QMP ${command}: ${errorClass}: ${desc}`);
  }
}

interface Waiting {
  command: string;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

export class QmpClient extends EventEmitter<{ event: [QmpEvent]; close: [] }> {
  readonly events: QmpEvent[] = [];
  greeting: Record<string, unknown> = {};
  private buffer = '';
  private nextId = 1;
  private readonly waiting = new Map<string, Waiting>();
  private closed = false;

  private constructor(private readonly socket: Socket) {
    super();
  }

  /** Connects, retrying while QEMU has not yet created the socket, and negotiates capabilities. */
  static async connect(path: string, timeoutMs = 15_000): Promise<QmpClient> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const socket = await new Promise<Socket>((resolve, reject) => {
          const s = connect(path);
          s.once('connect', () => resolve(s));
          s.once('error', reject);
        });
        const client = new QmpClient(socket);
        await client.handshake();
        return client;
      } catch (e) {
        if (Date.now() > deadline) throw new Error(`QMP: cannot connect to ${path}: ${(e as Error).message}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  private handshake(): Promise<void> {
    this.socket.setEncoding('utf8');
    return new Promise((resolve, reject) => {
      let greeted = false;
      this.socket.on('data', (text: string) => {
        this.buffer += text;
        let nl: number;
        while ((nl = this.buffer.indexOf('\n')) >= 0) {
          const line = this.buffer.slice(0, nl).trim();
          this.buffer = this.buffer.slice(nl + 1);
          if (!line) continue;
          const msg = JSON.parse(line) as Record<string, unknown>;
          if (!greeted && 'QMP' in msg) {
            greeted = true;
            this.greeting = msg.QMP as Record<string, unknown>;
            this.execute('qmp_capabilities').then(() => resolve(), reject);
            continue;
          }
          this.dispatch(msg);
        }
      });
      this.socket.on('error', (e) => {
        if (!greeted) reject(e);
      });
      this.socket.on('close', () => {
        this.closed = true;
        for (const w of this.waiting.values()) w.reject(new Error(`QMP ${w.command}: connection closed (QEMU exited?)`));
        this.waiting.clear();
        this.emit('close');
      });
    });
  }

  private dispatch(msg: Record<string, unknown>): void {
    if (typeof msg.event === 'string') {
      const ev = msg as unknown as QmpEvent;
      this.events.push(ev);
      this.emit('event', ev);
      return;
    }
    const id = String(msg.id);
    const w = this.waiting.get(id);
    if (!w) return;
    this.waiting.delete(id);
    if ('error' in msg) {
      const err = msg.error as { class?: string; desc?: string };
      w.reject(new QmpError(w.command, err.class ?? 'Error', err.desc ?? JSON.stringify(err)));
    } else w.resolve(msg.return);
  }

  execute<T = unknown>(command: string, args?: Record<string, unknown>): Promise<T> {
    if (this.closed) return Promise.reject(new Error(`QMP ${command}: connection closed`));
    const id = String(this.nextId++);
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { command, resolve: resolve as (v: unknown) => void, reject });
      this.socket.write(JSON.stringify({ execute: command, ...(args ? { arguments: args } : {}), id }) + '\n');
    });
  }

  /** Resolves with the first event (already seen or future) that matches. */
  waitEvent(name: string, match: (e: QmpEvent) => boolean = () => true, timeoutMs = 60_000): Promise<QmpEvent> {
    const seen = this.events.find((e) => e.event === name && match(e));
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('event', on);
        reject(new Error(`QMP: no ${name} event within ${timeoutMs} ms`));
      }, timeoutMs);
      const on = (e: QmpEvent): void => {
        if (e.event !== name || !match(e)) return;
        clearTimeout(timer);
        this.off('event', on);
        resolve(e);
      };
      this.on('event', on);
    });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  close(): void {
    this.socket.destroy();
  }
}
