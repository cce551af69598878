import { promises as fsp } from 'node:fs';

/**
 * Random access to the bytes of a capture. Reads are positional: a capture of many GiB is never
 * loaded whole. Implementations never open anything for writing: a capture is never modified.
 */
export interface ByteSource {
  readonly size: number;
  /** Reads up to `length` bytes at `position`; fewer only at end of source. */
  read(position: number, length: number): Promise<Uint8Array>;
  close(): Promise<void>;
}

export class FileByteSource implements ByteSource {
  private constructor(private readonly handle: fsp.FileHandle, readonly size: number, readonly path: string) {}

  static async open(path: string): Promise<FileByteSource> {
    const handle = await fsp.open(path, 'r');
    try {
      const stat = await handle.stat();
      if (!stat.isFile()) throw new Error(`${path}: not a regular file`);
      return new FileByteSource(handle, stat.size, path);
    } catch (e) {
      await handle.close();
      throw e;
    }
  }

  async read(position: number, length: number): Promise<Uint8Array> {
    const n = Math.max(0, Math.min(length, this.size - position));
    const buf = new Uint8Array(n);
    let done = 0;
    while (done < n) {
      const { bytesRead } = await this.handle.read(buf, done, n - done, position + done);
      if (bytesRead === 0) return buf.subarray(0, done);
      done += bytesRead;
    }
    return buf;
  }

  close(): Promise<void> {
    return this.handle.close();
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
