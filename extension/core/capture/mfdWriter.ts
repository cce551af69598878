import { promises as fsp } from 'node:fs';
import { FLAG_RETURN_PATH, MFD_FILE_HEADER_LENGTH, MFD_MAGIC, MFD_RECORD_HEADER_LENGTH, MFD_VERSION, RecordType, type Direction } from './mfdFormat';

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

export function encodeRecordHeader(type: number, flags: number, stream: number, length: number, timestampNs: number): Uint8Array {
  const b = new Uint8Array(MFD_RECORD_HEADER_LENGTH);
  const v = new DataView(b.buffer);
  v.setUint8(0, type);
  v.setUint8(1, flags);
  v.setUint16(2, stream, true);
  v.setUint32(4, length, true);
  v.setBigUint64(8, BigInt(Math.max(0, Math.floor(timestampNs))), true);
  return b;
}

export function encodeRecord(type: number, flags: number, stream: number, payload: Uint8Array, timestampNs: number): Uint8Array {
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
 * Appends records to a `.mfd` file as they happen (the recorder). Each record goes out in one write
 * call, in order, so a writer killed at any moment leaves every whole record readable; a reader drops
 * at most the cut-off last one. Writes are serialized through one promise chain.
 */
export class MfdFileWriter {
  private chain: Promise<void> = Promise.resolve();
  private failed: Error | undefined;
  private written = 0;
  private readonly startNs = process.hrtime.bigint();

  private constructor(private readonly handle: fsp.FileHandle) {}

  /** Creates a new file; refuses to overwrite an existing one unless `overwrite` is set. */
  static async create(path: string, overwrite = false): Promise<MfdFileWriter> {
    const handle = await fsp.open(path, overwrite ? 'w' : 'wx');
    const w = new MfdFileWriter(handle);
    w.enqueue(encodeFileHeader());
    return w;
  }

  get bytesWritten(): number {
    return this.written;
  }
  get error(): Error | undefined {
    return this.failed;
  }

  /** Nanoseconds since the capture started (monotonic). */
  now(): number {
    return Number(process.hrtime.bigint() - this.startNs);
  }

  record(type: RecordType, stream: number, payload: Uint8Array, direction: Direction = 'toDestination'): Promise<void> {
    return this.enqueue(encodeRecord(type, directionFlags(direction), stream, payload, this.now()));
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

  private enqueue(bytes: Uint8Array): Promise<void> {
    this.chain = this.chain.then(async () => {
      if (this.failed) throw this.failed;
      try {
        let done = 0;
        while (done < bytes.length) {
          const { bytesWritten } = await this.handle.write(bytes, done, bytes.length - done);
          done += bytesWritten;
        }
        this.written += bytes.length;
      } catch (e) {
        // A short write (disk full) leaves a cut-off last record, which readers drop: earlier records stay intact.
        this.failed = e as Error;
        throw e;
      }
    });
    return this.chain;
  }

  /** Waits for pending writes, then closes. */
  async finish(): Promise<void> {
    try {
      await this.chain.catch(() => undefined);
    } finally {
      await this.handle.close();
    }
    if (this.failed) throw this.failed;
  }
}
