import type { CompressionMethod } from '../../multifd/constants';
import { NocompReceiver } from './nocompReceiver';
import { NotDecodedReceiver } from './notDecodedReceiver';
import { createZlibReceiver } from './zlibReceiver';
import { ZstdJsReceiver } from './zstdJsReceiver';
import { createZstdNodeReceiver, nodeHasZstd } from './zstdNodeReceiver';

export { ReceiveError, type ReceiveErrorCode } from './receiveError';
export { nodeHasZstd } from './zstdNodeReceiver';

/**
 * Turns one channel's packet payloads back into pages, mirroring QEMU's receive side for the channel's
 * compression method. zlib and zstd keep one codec stream per channel across packets, so a receiver serves
 * exactly one channel and must be fed that channel's data packets in order.
 */
export interface PacketPayloadReceiver {
  readonly method: CompressionMethod;
  /**
   * Decodes one packet's payload; returns exactly normalPages*pageSize bytes (page i at i*pageSize, in the
   * packet's offset[] order) or throws ReceiveError. Called in channel order. A packet with no normal pages
   * has no payload: it returns an empty array without touching the codec. After a failure every later call
   * fails too. The returned array may share memory with `payload` (nocomp); the receiver does not reuse it.
   */
  receive(payload: Uint8Array, normalPages: number): Promise<Uint8Array>;
  close(): void;
}

export interface ReceiverOptions {
  /** 'node': node:zlib (Node >= 22.15); 'js': pure JS; 'auto' (default): node when present. */
  zstdImplementation?: 'node' | 'js' | 'auto';
}

export function createReceiver(method: CompressionMethod, pageSize: number, options: ReceiverOptions = {}): PacketPayloadReceiver {
  switch (method) {
    case 'none':
      return new NocompReceiver(pageSize);
    case 'zlib':
      return createZlibReceiver(pageSize);
    case 'zstd': {
      const impl = options.zstdImplementation ?? 'auto';
      if (impl === 'node' || (impl === 'auto' && nodeHasZstd())) return createZstdNodeReceiver(pageSize);
      return new ZstdJsReceiver(pageSize);
    }
    case 'qpl':
    case 'uadk':
    case 'qatzip':
      return new NotDecodedReceiver(method);
  }
}
