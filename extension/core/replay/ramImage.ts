import { closeSync, ftruncateSync, openSync, rmSync } from 'node:fs';
import { preadFully, pwriteFully } from '../util/positionalIo';

/** An image could not be written or grown (disk full, I/O error): the replay stops, its output incomplete. */
export class ImageWriteError extends Error {
  constructor(
    readonly path: string,
    cause: Error,
  ) {
    super(`cannot write ${path}: ${cause.message}`, { cause });
  }
}

/**
 * One ramblock's rebuilt contents, as a file of exactly the block's used_length, written with positional writes
 * only: a multi-GiB block is never held in memory. The destination starts all zero, and so does a fresh sparse
 * file, so pages never written stay holes. Writes are synchronous: each lands in the page cache at memory speed,
 * where a thread-pool round trip per write would cost more than the write (replay yields between packets).
 */
export class RamImage {
  private closed = false;
  private constructor(
    private readonly fd: number,
    readonly path: string,
    public size: number,
  ) {}

  /** Creates the image; refuses to replace an existing file unless `overwrite`. */
  static async create(path: string, size: number, _pageSize: number, overwrite: boolean): Promise<RamImage> {
    const fd = openSync(path, overwrite ? 'w+' : 'wx+');
    try {
      ftruncateSync(fd, size);
    } catch (e) {
      // A size the file system refuses (a hostile MEM_SIZE): no descriptor left open, no empty file left behind.
      closeSync(fd);
      rmSync(path, { force: true });
      throw e;
    }
    return new RamImage(fd, path, size);
  }

  /** Grows the image (blocks sized from offsets seen, when there is no MEM_SIZE). */
  async ensureSize(size: number): Promise<void> {
    if (size > this.size) {
      try {
        ftruncateSync(this.fd, size);
      } catch (e) {
        throw new ImageWriteError(this.path, e as Error);
      }
      this.size = size;
    }
  }

  async write(offset: number, bytes: Uint8Array): Promise<void> {
    try {
      pwriteFully(this.fd, bytes, offset);
    } catch (e) {
      throw new ImageWriteError(this.path, e as Error);
    }
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    return preadFully(this.fd, Math.min(length, this.size - offset), offset);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
  }
}
