import { promises as fsp } from 'node:fs';

/**
 * One ramblock's rebuilt contents, as a sparse file of exactly the block's used_length, written with
 * positional writes only: a multi-GiB block is never held in memory. The destination starts all zero,
 * and so does a fresh sparse file.
 */
export class RamImage {
  private constructor(private readonly handle: fsp.FileHandle, readonly path: string, public size: number, private readonly pageSize: number) {}

  /** Creates the image; refuses to replace an existing file unless `overwrite`. */
  static async create(path: string, size: number, pageSize: number, overwrite: boolean): Promise<RamImage> {
    const handle = await fsp.open(path, overwrite ? 'w+' : 'wx+');
    try {
      await handle.truncate(size);
    } catch (e) {
      // A size the file system refuses (a hostile MEM_SIZE): no handle left open, no empty file left behind.
      await handle.close();
      await fsp.rm(path, { force: true });
      throw e;
    }
    return new RamImage(handle, path, size, pageSize);
  }

  /** Grows the image (blocks sized from offsets seen, when there is no MEM_SIZE). */
  async ensureSize(size: number): Promise<void> {
    if (size > this.size) {
      await this.handle.truncate(size);
      this.size = size;
    }
  }

  async write(offset: number, bytes: Uint8Array): Promise<void> {
    let done = 0;
    while (done < bytes.length) {
      const { bytesWritten } = await this.handle.write(bytes, done, bytes.length - done, offset + done);
      done += bytesWritten;
    }
  }

  /**
   * Writes a packet's pages: page i of `data` to offsets[i]. Runs of adjacent offsets go out as one write.
   */
  async writePages(offsets: readonly number[], data: Uint8Array): Promise<void> {
    const ps = this.pageSize;
    let i = 0;
    while (i < offsets.length) {
      let j = i + 1;
      while (j < offsets.length && offsets[j] === offsets[j - 1] + ps) j++;
      await this.write(offsets[i], data.subarray(i * ps, j * ps));
      i = j;
    }
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    const n = Math.max(0, Math.min(length, this.size - offset));
    const buf = new Uint8Array(n);
    let done = 0;
    while (done < n) {
      const { bytesRead } = await this.handle.read(buf, done, n - done, offset + done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return buf;
  }

  close(): Promise<void> {
    return this.handle.close();
  }
}
