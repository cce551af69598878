import { closeSync } from 'node:fs';
import type { ByteSource } from '../fileAccessor';
import { preadFully } from '../../util/positionalIo';

/**
 * Positional reads from a file descriptor whose file has already been unlinked (a decompressed stream): only
 * this process can read it, and closing the source frees its space.
 */
export class UnlinkedFileSource implements ByteSource {
  private closed = false;
  constructor(
    private readonly fd: number,
    readonly size: number,
    readonly label: string,
  ) {}

  async read(position: number, length: number): Promise<Uint8Array> {
    if (this.closed) throw new Error(`${this.label}: read after close`);
    return preadFully(this.fd, Math.min(length, this.size - position), position);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
  }
}
