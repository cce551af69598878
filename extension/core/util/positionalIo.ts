import { readSync, writeSync } from 'node:fs';

/** Reads up to `length` bytes at `position` (fewer only at end of file), looping over short reads. */
export function preadFully(fd: number, length: number, position: number): Uint8Array {
  const buf = new Uint8Array(Math.max(0, length));
  let done = 0;
  while (done < buf.length) {
    const got = readSync(fd, buf, done, buf.length - done, position + done);
    if (got === 0) return buf.subarray(0, done);
    done += got;
  }
  return buf;
}

/** The file ended before a read got the bytes it asked for (a file that shrank, or was cut, after it was sized). */
export class ShortReadError extends Error {
  constructor(
    /** Where the read started, and where the file ended. */
    readonly position: number,
    readonly endedAt: number,
    readonly wanted: number,
  ) {
    super(`the file ends at byte ${endedAt}: ${endedAt - position} of ${wanted} bytes read at byte ${position}`);
  }
}

/** Reads exactly `length` bytes at `position`, looping over short reads; throws ShortReadError at end of file. */
export function preadExactly(fd: number, length: number, position: number): Uint8Array {
  const buf = preadFully(fd, length, position);
  if (buf.length < Math.max(0, length)) throw new ShortReadError(position, position + buf.length, length);
  return buf;
}

/** Writes all of `bytes` at `position`, looping over short writes. */
export function pwriteFully(fd: number, bytes: Uint8Array, position: number): void {
  let done = 0;
  while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done, position + done);
}
