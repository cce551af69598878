import * as zlib from 'node:zlib';
import { NodeStreamReceiver, OUTPUT_CHUNK } from './nodeStreamReceiver';

/**
 * zlib: one inflate stream per channel (zlib format, header only before the first data packet, never
 * finished). Every write is inflated with Z_SYNC_FLUSH, matching the sender's flush at each packet end.
 * Output lands in shared OUTPUT_CHUNK buffers, so a packet usually costs one trip to the thread pool and is
 * returned without copying.
 */
export function createZlibReceiver(pageSize: number): NodeStreamReceiver {
  const inflate = zlib.createInflate({ flush: zlib.constants.Z_SYNC_FLUSH, chunkSize: OUTPUT_CHUNK });
  return new NodeStreamReceiver('zlib', pageSize, inflate);
}
