import * as zlib from 'node:zlib';
import type { PacketPayloadReceiver } from './payloadReceiver';
import { NodeStreamReceiver, OUTPUT_CHUNK } from './nodeStreamReceiver';
import { SyncCodecReceiver, asSyncEngine } from './syncCodecReceiver';

/**
 * zlib: one inflate stream per channel (zlib format, header only before the first data packet, never
 * finished). Every payload is inflated with Z_SYNC_FLUSH, matching the sender's flush at each packet end.
 * Synchronously on the calling thread where node:zlib allows it (see SyncCodecReceiver), else through the
 * stream interface, where output lands in shared OUTPUT_CHUNK buffers.
 */
export function createZlibReceiver(pageSize: number, mode: 'sync' | 'stream' = 'sync'): PacketPayloadReceiver {
  if (mode === 'sync') {
    const engine = asSyncEngine(zlib.createInflate({ chunkSize: OUTPUT_CHUNK }));
    if (engine) return new SyncCodecReceiver('zlib', pageSize, engine, zlib.constants.Z_SYNC_FLUSH);
  }
  const inflate = zlib.createInflate({ flush: zlib.constants.Z_SYNC_FLUSH, chunkSize: OUTPUT_CHUNK });
  return new NodeStreamReceiver('zlib', pageSize, inflate);
}
