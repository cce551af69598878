import type { Transform } from 'node:stream';
import * as zlib from 'node:zlib';
import { NodeStreamReceiver, OUTPUT_CHUNK } from './nodeStreamReceiver';
import type { PacketPayloadReceiver } from './payloadReceiver';
import { SyncCodecReceiver, asSyncEngine } from './syncCodecReceiver';

/** The part of node:zlib's zstd API we use; @types/node 20 does not declare it (it exists from Node 22.15). */
interface ZstdZlib {
  createZstdDecompress?: (options?: { chunkSize?: number; params?: Record<number, number> }) => Transform;
  constants: { ZSTD_d_windowLogMax?: number; ZSTD_e_flush?: number };
}

const zstdZlib = zlib as unknown as ZstdZlib;

/** libzstd's default limit for streaming decompression (ZSTD_WINDOWLOG_LIMIT_DEFAULT), as QEMU's receiver uses. */
export const ZSTD_WINDOW_LOG_MAX = 27;

export function nodeHasZstd(): boolean {
  return typeof zstdZlib.createZstdDecompress === 'function';
}

/**
 * zstd through node:zlib: one ZSTD_DStream per channel for the channel's single never-ending frame.
 * ZSTD_decompressStream decodes every complete block it is given, and each packet ends on a ZSTD_e_flush
 * boundary (complete blocks), so each write yields the packet's pages.
 */
export function createZstdNodeReceiver(pageSize: number, mode: 'sync' | 'stream' = 'sync'): PacketPayloadReceiver {
  const create = zstdZlib.createZstdDecompress;
  if (!create) throw new Error(`node:zlib has no zstd in Node ${process.versions.node} (needs 22.15 or later)`);
  const params: Record<number, number> = {};
  const windowLogMax = zstdZlib.constants.ZSTD_d_windowLogMax;
  if (windowLogMax !== undefined) params[windowLogMax] = ZSTD_WINDOW_LOG_MAX;
  const stream = create({ chunkSize: OUTPUT_CHUNK, params });
  const engine = mode === 'sync' ? asSyncEngine(stream) : undefined;
  if (engine && zstdZlib.constants.ZSTD_e_flush !== undefined)
    return new SyncCodecReceiver('zstd', pageSize, engine, zstdZlib.constants.ZSTD_e_flush);
  return new NodeStreamReceiver('zstd', pageSize, stream);
}
