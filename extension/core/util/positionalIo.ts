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

/** Writes all of `bytes` at `position`, looping over short writes. */
export function pwriteFully(fd: number, bytes: Uint8Array, position: number): void {
  let done = 0;
  while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done, position + done);
}
