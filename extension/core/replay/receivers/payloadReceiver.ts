import type { CompressionMethod } from '../../multifd/constants';

/**
 * Turns one channel's packet payloads back into pages, mirroring QEMU's receive side for the channel's
 * compression method. zlib and zstd keep one codec stream per channel across packets, so a receiver serves
 * exactly one channel and must be fed that channel's data packets in order.
 *
 * This file only declares the contract; `receiver.ts` picks the implementation for a method.
 */
export interface PacketPayloadReceiver {
  readonly method: CompressionMethod;
  /**
   * True when a packet decodes without the channel's earlier packets (nocomp, qpl, uadk, qatzip): random access
   * (the editor) can then decode one packet alone. zlib and zstd carry codec state from packet to packet.
   */
  readonly packetsIndependent?: boolean;
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
