import { connect, type Socket } from 'node:net';

/**
 * The QMP client (a QEMU monitor on a unix socket): one JSON object per line each way, commands matched to
 * replies by id so events in between are kept. Every wait is bounded. `mfd send` uses it on the destination's
 * monitor, and the real-QEMU driver on both VMs.
 */

export interface QmpEvent {
  event: string;
  data?: Record<string, unknown>;
  /** performance.now() when it arrived: the send measures the destination's completion with it. */
  receivedAt: number;
}

export class QmpCommandError extends Error {
  constructor(
    readonly command: string,
    readonly errorClass: string,
    readonly desc: string,
  ) {
    super(`QMP ${command}: ${desc}`);
  }
}

interface Waiting {
  command: string;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

export class QmpClient {
  readonly events: QmpEvent[] = [];
  private readonly listeners = new Set<(e: QmpEvent) => void>();
  private readonly waiting = new Map<string, Waiting>();
  private buffer = '';
  private nextId = 1;
  private closedFlag = false;

  private constructor(private readonly socket: Socket) {}

  get closed(): boolean {
    return this.closedFlag;
  }

  /**
   * Connects and negotiates capabilities. With `retry`, a socket that does not exist yet (QEMU still starting)
   * is tried again until the timeout.
   */
  static async connect(path: string, timeoutMs = 10_000, retry = false): Promise<QmpClient> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        return await QmpClient.connectOnce(path, Math.max(1, deadline - Date.now()));
      } catch (e) {
        if (!retry || Date.now() >= deadline) throw e;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  private static async connectOnce(path: string, timeoutMs: number): Promise<QmpClient> {
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = connect(path);
      const timer = setTimeout(() => {
        s.destroy();
        reject(new Error(`QMP ${path}: no connection within ${timeoutMs} ms`));
      }, timeoutMs);
      s.once('connect', () => {
        clearTimeout(timer);
        resolve(s);
      });
      s.once('error', (e) => {
        clearTimeout(timer);
        reject(new Error(`QMP ${path}: ${e.message} (is it the destination's -qmp unix:PATH,server=on socket?)`));
      });
    });
    const client = new QmpClient(socket);
    await client.greet(path, timeoutMs);
    return client;
  }

  private greet(path: string, timeoutMs: number): Promise<void> {
    this.socket.setEncoding('utf8');
    return new Promise((resolve, reject) => {
      let greeted = false;
      const timer = setTimeout(() => {
        this.socket.destroy();
        reject(new Error(`QMP ${path}: no greeting within ${timeoutMs} ms (another client may hold the monitor)`));
      }, timeoutMs);
      this.socket.on('data', (text: string) => {
        this.buffer += text;
        let nl: number;
        while ((nl = this.buffer.indexOf('\n')) >= 0) {
          const line = this.buffer.slice(0, nl).trim();
          this.buffer = this.buffer.slice(nl + 1);
          if (!line) continue;
          let msg: Record<string, unknown>;
          try {
            msg = JSON.parse(line) as Record<string, unknown>;
          } catch {
            continue; // not QMP; the greeting check below fails the connect
          }
          if (!greeted && 'QMP' in msg) {
            greeted = true;
            clearTimeout(timer);
            this.execute('qmp_capabilities', undefined, timeoutMs).then(() => resolve(), reject);
            continue;
          }
          this.dispatch(msg);
        }
      });
      this.socket.on('error', () => undefined); // 'close' follows and reports it
      this.socket.on('close', () => {
        this.closedFlag = true;
        clearTimeout(timer);
        if (!greeted) reject(new Error(`QMP ${path}: closed before the greeting`));
        for (const w of this.waiting.values()) {
          clearTimeout(w.timer);
          w.reject(new Error(`QMP ${w.command}: the monitor connection closed (did the destination QEMU exit?)`));
        }
        this.waiting.clear();
      });
    });
  }

  private dispatch(msg: Record<string, unknown>): void {
    if (typeof msg.event === 'string') {
      const ev: QmpEvent = {
        event: msg.event,
        data: msg.data as Record<string, unknown> | undefined,
        receivedAt: performance.now(),
      };
      this.events.push(ev);
      for (const l of this.listeners) l(ev);
      return;
    }
    const w = this.waiting.get(String(msg.id));
    if (!w) return;
    this.waiting.delete(String(msg.id));
    clearTimeout(w.timer);
    if ('error' in msg) {
      const err = (msg.error ?? {}) as { class?: string; desc?: string };
      w.reject(new QmpCommandError(w.command, err.class ?? 'Error', err.desc ?? JSON.stringify(err)));
    } else w.resolve(msg.return);
  }

  execute<T = unknown>(command: string, args?: Record<string, unknown>, timeoutMs = 10_000): Promise<T> {
    if (this.closedFlag)
      return Promise.reject(
        new Error(`QMP ${command}: the monitor connection is closed (did the destination QEMU exit?)`),
      );
    const id = String(this.nextId++);
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`QMP ${command}: no reply within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(id, { command, resolve: resolve as (v: unknown) => void, reject, timer });
      this.socket.write(JSON.stringify({ execute: command, ...(args ? { arguments: args } : {}), id }) + '\n');
    });
  }

  onEvent(listener: (e: QmpEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    this.socket.destroy();
  }
}
