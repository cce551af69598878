import { promises as fsp } from 'node:fs';
import {
  FLAG_RETURN_PATH,
  MFD_FILE_HEADER_LENGTH,
  MFD_MAGIC,
  MFD_RECORD_HEADER_LENGTH,
  MFD_VERSION,
  RecordType,
  type Direction,
} from './mfdFormat';

/** Encoders for the `.mfd` container. Pure functions, so tests can build captures in memory. */

export function encodeFileHeader(): Uint8Array {
  const b = new Uint8Array(MFD_FILE_HEADER_LENGTH);
  b.set(MFD_MAGIC, 0);
  const v = new DataView(b.buffer);
  v.setUint16(8, MFD_VERSION, true);
  v.setUint16(10, MFD_FILE_HEADER_LENGTH, true);
  v.setUint32(12, 0, true);
  return b;
}

export function encodeRecordHeader(
  type: number,
  flags: number,
  stream: number,
  length: number,
  timestampNs: number,
): Uint8Array {
  const b = new Uint8Array(MFD_RECORD_HEADER_LENGTH);
  const v = new DataView(b.buffer);
  v.setUint8(0, type);
  v.setUint8(1, flags);
  v.setUint16(2, stream, true);
  v.setUint32(4, length, true);
  v.setBigUint64(8, BigInt(Math.max(0, Math.floor(timestampNs))), true);
  return b;
}

export function encodeRecord(
  type: number,
  flags: number,
  stream: number,
  payload: Uint8Array,
  timestampNs: number,
): Uint8Array {
  const out = new Uint8Array(MFD_RECORD_HEADER_LENGTH + payload.length);
  out.set(encodeRecordHeader(type, flags, stream, payload.length, timestampNs), 0);
  out.set(payload, MFD_RECORD_HEADER_LENGTH);
  return out;
}

export function jsonPayload(obj: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(obj));
}

export function directionFlags(direction: Direction): number {
  return direction === 'toSource' ? FLAG_RETURN_PATH : 0;
}

/**
 * Builds a whole `.mfd` in memory: for test fixtures and small synthetic captures.
 * Timestamps default to a counter so they are non-decreasing, as the contract requires.
 */
export class MfdBuilder {
  private readonly parts: Uint8Array[] = [encodeFileHeader()];
  private clock = 0;

  private ts(t?: number): number {
    this.clock = t === undefined ? this.clock + 1000 : Math.max(this.clock, t);
    return this.clock;
  }
  meta(obj: Record<string, unknown>, t?: number): this {
    this.parts.push(encodeRecord(RecordType.Meta, 0, 0, jsonPayload(obj), this.ts(t)));
    return this;
  }
  open(stream: number, info: Record<string, unknown>, t?: number): this {
    this.parts.push(encodeRecord(RecordType.Open, 0, stream, jsonPayload(info), this.ts(t)));
    return this;
  }
  data(stream: number, bytes: Uint8Array, direction: Direction = 'toDestination', t?: number): this {
    this.parts.push(encodeRecord(RecordType.Data, directionFlags(direction), stream, bytes, this.ts(t)));
    return this;
  }
  close(stream: number, reason = 'eof', t?: number): this {
    this.parts.push(encodeRecord(RecordType.Close, 0, stream, jsonPayload({ reason }), this.ts(t)));
    return this;
  }
  note(text: string, t?: number): this {
    this.parts.push(encodeRecord(RecordType.Note, 0, 0, jsonPayload({ text }), this.ts(t)));
    return this;
  }
  raw(bytes: Uint8Array): this {
    this.parts.push(bytes);
    return this;
  }
  build(): Uint8Array {
    const total = this.parts.reduce((n, p) => n + p.length, 0);
    const out = new Uint8Array(total);
    let o = 0;
    for (const p of this.parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }
}

/**
 * Appends records to a `.mfd` file as they happen (the recorder, large test captures). Records go out whole and
 * in order; the records that queue up while a write is in flight go out together in one writev, and DATA
 * payloads are written from the caller's own buffers (no copy). At full migration speed that is a few large writes instead of one
 * thread-pool round trip and one copy per 64 KiB chunk. A process killed mid-write leaves whole records
 * followed by at most one cut-off record, which readers drop.
 */

const MAX_BATCH_BYTES = 8 << 20;

interface Pending {
  parts: Uint8Array[];
  size: number;
  done: () => void;
  fail: (e: Error) => void;
}

export class MfdFileWriter {
  private readonly queue: Pending[] = [];
  private writing = false;
  private failed: Error | undefined;
  private written = 0;
  private position = 0;
  private idle: (() => void) | undefined;
  private readonly startNs = process.hrtime.bigint();

  private constructor(private readonly handle: fsp.FileHandle) {}

  /** Creates the file (refusing to replace one unless `overwrite`) and queues the file header. */
  static async create(path: string, overwrite = false): Promise<MfdFileWriter> {
    const w = new MfdFileWriter(await fsp.open(path, overwrite ? 'w' : 'wx'));
    // Awaited: a file that cannot take its header fails here, not on the first record.
    await w.enqueue([encodeFileHeader()]);
    return w;
  }

  get bytesWritten(): number {
    return this.written;
  }

  /** Nanoseconds since the capture started (monotonic); taken when a record is queued, so never decreasing. */
  now(): number {
    return Number(process.hrtime.bigint() - this.startNs);
  }

  record(type: RecordType, stream: number, payload: Uint8Array, direction: Direction = 'toDestination'): Promise<void> {
    return this.enqueue([
      encodeRecordHeader(type, directionFlags(direction), stream, payload.length, this.now()),
      payload,
    ]);
  }
  meta(obj: Record<string, unknown>): Promise<void> {
    return this.record(RecordType.Meta, 0, jsonPayload(obj));
  }
  open(stream: number, info: Record<string, unknown>): Promise<void> {
    return this.record(RecordType.Open, stream, jsonPayload(info));
  }
  data(stream: number, bytes: Uint8Array, direction: Direction): Promise<void> {
    return this.record(RecordType.Data, stream, bytes, direction);
  }
  close(stream: number, reason: string): Promise<void> {
    return this.record(RecordType.Close, stream, jsonPayload({ reason }));
  }
  note(text: string): Promise<void> {
    return this.record(RecordType.Note, 0, jsonPayload({ text }));
  }

  private enqueue(parts: Uint8Array[]): Promise<void> {
    if (this.failed) return Promise.reject(this.failed);
    return new Promise((done, fail) => {
      this.queue.push({ parts, size: parts.reduce((n, p) => n + p.length, 0), done, fail });
      if (!this.writing) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.writing = true;
    while (this.queue.length && !this.failed) {
      let size = 0;
      let n = 0;
      while (n < this.queue.length && (n === 0 || size + this.queue[n].size <= MAX_BATCH_BYTES))
        size += this.queue[n++].size;
      const batch = this.queue.splice(0, n);
      try {
        await this.writeAll(
          batch.flatMap((p) => p.parts),
          size,
        );
        this.written += size;
        for (const p of batch) p.done();
      } catch (e) {
        // Whatever part of the batch reached the file ends in at most one cut-off record.
        this.failed = e as Error;
        for (const p of [...batch, ...this.queue.splice(0)]) p.fail(this.failed);
      }
    }
    this.writing = false;
    this.idle?.();
  }

  private async writeAll(parts: Uint8Array[], size: number): Promise<void> {
    let done = 0;
    while (done < size) {
      // writev may write less than asked (signals, a full disk): go on from where it stopped.
      const rest = done === 0 ? parts : remainder(parts, done);
      const { bytesWritten } = await this.handle.writev(rest as NodeJS.ArrayBufferView[], this.position);
      if (bytesWritten === 0) throw new Error('the capture file accepts no more bytes (disk full?)');
      this.position += bytesWritten;
      done += bytesWritten;
    }
  }

  /** Waits for queued records, then closes the file. */
  async finish(): Promise<void> {
    if (this.writing) await new Promise<void>((r) => (this.idle = r));
    await this.handle.close();
    if (this.failed) throw this.failed;
  }
}

function remainder(parts: Uint8Array[], skip: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const p of parts) {
    if (skip >= p.length) {
      skip -= p.length;
      continue;
    }
    out.push(skip ? p.subarray(skip) : p);
    skip = 0;
  }
  return out;
}
