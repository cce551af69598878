import { closeSync, ftruncateSync, openSync, rmSync } from 'node:fs';
import { preadFully, pwriteFully } from '../util/positionalIo';

/**
 * One ramblock's rebuilt contents, as a file of exactly the block's used_length, written with positional writes
 * only: a multi-GiB block is never held in memory. The destination starts all zero, and so does a fresh sparse
 * file, so pages never written stay holes. Writes are synchronous: each lands in the page cache at memory speed,
 * where a thread-pool round trip per write would cost more than the write (replay yields between packets).
 */
export class RamImage {
  private closed = false;
  private constructor(private readonly fd: number, readonly path: string, public size: number) {}

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
      ftruncateSync(this.fd, size);
      this.size = size;
    }
  }

  async write(offset: number, bytes: Uint8Array): Promise<void> {
    pwriteFully(this.fd, bytes, offset);
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
