import { closeSync, constants, fstatSync, openSync } from 'node:fs';
import { preadExactly, ShortReadError } from '../util/positionalIo';
import { CaptureEndedError } from './captureEnded';

/**
 * Random access to the bytes of a capture. Reads are positional: a capture of many GiB is never
 * loaded whole. Implementations never open anything for writing: a capture is never modified.
 */
export interface ByteSource {
  readonly size: number;
  /**
   * Reads up to `length` bytes at `position`; fewer only at end of source as sized when opened. A source
   * that has since shrunk throws CaptureEndedError rather than return fewer bytes.
   */
  read(position: number, length: number): Promise<Uint8Array>;
  close(): Promise<void>;
}

/**
 * A capture file opened read-only. Reads are synchronous positional reads behind the async interface: the
 * decoder issues many small header reads served from the page cache, where a thread-pool round trip per read
 * costs more than the read itself. Long walks yield to the event loop between batches (see the indexers).
 */
export class FileByteSource implements ByteSource {
  private closed = false;
  private constructor(
    private readonly fd: number,
    readonly size: number,
    readonly path: string,
  ) {}

  static async open(path: string): Promise<FileByteSource> {
    // Non-blocking: a path swapped for a FIFO after openCapture's stat is refused below instead of waiting for a writer.
    const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    try {
      const stat = fstatSync(fd);
      if (!stat.isFile()) throw new Error(`${path}: not a regular file`);
      return new FileByteSource(fd, stat.size, path);
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }

  async read(position: number, length: number): Promise<Uint8Array> {
    return this.readNow(position, length);
  }

  readNow(position: number, length: number): Uint8Array {
    if (this.closed) throw new Error(`${this.path}: read after close`);
    try {
      return preadExactly(this.fd, Math.min(length, this.size - position), position);
    } catch (e) {
      if (!(e instanceof ShortReadError)) throw e;
      throw new CaptureEndedError(
        `${this.path}: the capture ended at file offset ${e.endedAt} (it had ${this.size} bytes when opened; ${e.wanted} bytes were asked for at file offset ${position})`,
        e.endedAt,
      );
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
  }
}

/** In-memory source, for small synthetic captures in tests and for bytes read from a debuggee. */
export class MemoryByteSource implements ByteSource {
  constructor(private readonly bytes: Uint8Array) {}
  get size(): number {
    return this.bytes.length;
  }
  async read(position: number, length: number): Promise<Uint8Array> {
    return this.bytes.subarray(position, Math.min(this.bytes.length, position + length));
  }
  async close(): Promise<void> {}
}
