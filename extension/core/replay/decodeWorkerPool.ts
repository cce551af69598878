import { Worker } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { availableParallelism } from 'node:os';
import type { StreamBytes } from '../capture/streamBytes';
import type { MultifdStreamIndex } from '../multifd/indexMultifdStream';
import { pagesInPayload } from '../multifd/framing';
import { ReceiveError, type ReceiverOptions } from './receivers/receiver';
import type { WorkerReply, WorkerRequest } from './decodeWorkerProtocol';
import type { PacketDecoder } from './channelDecoder';

/** Where the worker script is: next to the bundle (dist/), or the TypeScript source when run through tsx. */
function workerScript(): string | undefined {
  const bundled = join(__dirname, 'decodeWorker.js');
  if (existsSync(bundled)) return bundled;
  const source = join(__dirname, 'decodeWorker.ts');
  return existsSync(source) ? source : undefined;
}

export function workersAvailable(): boolean {
  return workerScript() !== undefined;
}

interface Waiter {
  resolve(d: Uint8Array): void;
  reject(e: Error): void;
}

/**
 * Decode workers shared by the channels of one replay: each channel is pinned to one worker (its codec state
 * lives there); the main thread reads payloads ahead in channel order and keeps a bounded window in flight.
 */
export class DecodeWorkerPool {
  private readonly workers: Worker[] = [];
  private readonly results = new Map<string, Uint8Array | Error>();
  private readonly waiters = new Map<string, Waiter>();
  private nextChannel = 0;

  constructor(size = Math.max(1, availableParallelism())) {
    const script = workerScript();
    if (!script) throw new Error('decode worker script not found');
    for (let i = 0; i < size; i++) {
      // From sources (tests under tsx) the worker registers tsx itself; the bundle runs the .js directly.
      const w = script.endsWith('.ts')
        ? new Worker(`require('tsx/cjs/api').register(); require(${JSON.stringify(script)});`, { eval: true })
        : new Worker(script);
      w.on('message', (m: WorkerReply) => this.onReply(m));
      this.workers.push(w);
    }
  }

  private onReply(m: WorkerReply): void {
    const key = `${m.channel}:${m.row}`;
    const value = m.type === 'decoded' ? new Uint8Array(m.data) : new ReceiveError(m.code, m.message, m.page);
    const w = this.waiters.get(key);
    if (w) {
      this.waiters.delete(key);
      if (value instanceof Error) w.reject(value);
      else w.resolve(value);
    } else this.results.set(key, value);
  }

  decoderFor(index: MultifdStreamIndex, stream: StreamBytes, options: ReceiverOptions = {}, window = 8): PacketDecoder {
    const channel = this.nextChannel++;
    const worker = this.workers[channel % this.workers.length];
    const post = (m: WorkerRequest, transfer: ArrayBuffer[] = []) => worker.postMessage(m, transfer);
    post({
      type: 'open',
      channel,
      method: index.method ?? 'none',
      pageSize: index.pageSize,
      zstdImplementation: options.zstdImplementation,
    });
    const t = index.packets;
    const continuous = index.method === 'zlib' || index.method === 'zstd';
    let submitted = 0; // next row to look at for submission
    let inFlight = 0;
    let failedAt = -1;
    const take = (row: number): Promise<Uint8Array> => {
      const key = `${channel}:${row}`;
      const ready = this.results.get(key);
      if (ready !== undefined) {
        this.results.delete(key);
        return ready instanceof Error ? Promise.reject(ready) : Promise.resolve(ready);
      }
      return new Promise((resolve, reject) => this.waiters.set(key, { resolve, reject }));
    };
    const submitUpTo = async (row: number) => {
      while (submitted < t.length && (submitted <= row || inFlight < window)) {
        const r = submitted++;
        if (t.isDeviceState(r) || t.normalPages.get(r) === 0) continue;
        const start = t.headerOffset.get(r) + t.headerLength.get(r);
        const end = start + t.payloadLength.get(r);
        // Rows in or (for a continuous codec) after a hole are never asked for: replay names their pages.
        if (stream.holeIn(continuous ? 0 : start, end)) continue;
        const payload = await stream.read(start, end);
        const own =
          payload.byteOffset === 0 && payload.byteLength === payload.buffer.byteLength
            ? payload
            : new Uint8Array(payload);
        inFlight++;
        post(
          {
            type: 'decode',
            channel,
            row: r,
            payload: own.buffer as ArrayBuffer,
            normalPages: pagesInPayload(t.normalPages.get(r), index.pageSize),
          },
          [own.buffer as ArrayBuffer],
        );
      }
    };
    return {
      get failedRow() {
        return failedAt;
      },
      async decode(row: number): Promise<Uint8Array> {
        await submitUpTo(row);
        try {
          const out = await take(row);
          inFlight--;
          void submitUpTo(row);
          return out;
        } catch (e) {
          inFlight--;
          if (failedAt < 0) failedAt = row;
          throw e;
        }
      },
      close() {},
    };
  }

  async close(): Promise<void> {
    for (const w of this.workers) w.postMessage({ type: 'close' } satisfies WorkerRequest);
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
