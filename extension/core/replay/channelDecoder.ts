import type { StreamBytes } from '../capture/streamBytes';
import type { MultifdStreamIndex } from '../multifd/indexMultifdStream';
import { pageCount } from '../multifd/constants';
import { createReceiver, type PacketPayloadReceiver, type ReceiverOptions } from './receivers/receiver';

/**
 * Decodes one channel's payloads strictly in channel order (zlib and zstd keep one codec stream per channel)
 * while the replay asks for packets in epoch order. Asking for packet r decodes every earlier data packet of
 * the channel first; results not yet asked for wait in a small buffer (within a channel the two orders agree
 * in practice, so it stays empty).
 */
/** Gives a channel's decoded pages packet by packet; implemented in-thread and by the worker pool. */
export interface PacketDecoder {
  readonly failedRow: number;
  decode(row: number): Promise<Uint8Array>;
  close(): void;
}

export class ChannelDecoder implements PacketDecoder {
  private readonly receiver: PacketPayloadReceiver;
  private next = 0;
  private readonly pending = new Map<number, Uint8Array>();
  private failure: Error | undefined;
  private failedAt = -1;

  constructor(
    private readonly index: MultifdStreamIndex,
    private readonly stream: StreamBytes,
    options: ReceiverOptions = {},
  ) {
    this.receiver = createReceiver(index.method ?? 'none', index.pageSize, options);
  }

  /** Row of the packet whose decoding failed, or -1. */
  get failedRow(): number {
    return this.failedAt;
  }

  /** The decoded normal pages of packet `row` (normal_pages × page_size bytes). */
  async decode(row: number): Promise<Uint8Array> {
    const ready = this.pending.get(row);
    if (ready) {
      this.pending.delete(row);
      return ready;
    }
    const t = this.index.packets;
    while (this.next <= row) {
      const r = this.next++;
      if (t.isDeviceState(r) || t.normalPages.get(r) === 0) continue;
      if (this.failure) throw this.failure;
      const start = t.headerOffset.get(r) + t.headerLength.get(r);
      const payload = await this.stream.read(start, start + t.payloadLength.get(r));
      try {
        const out = await this.receiver.receive(payload, Math.min(t.normalPages.get(r), pageCount(this.index.pageSize)));
        if (r === row) return out;
        this.pending.set(r, out);
      } catch (e) {
        this.failure = e as Error;
        this.failedAt = r;
        throw e;
      }
    }
    if (this.failure) throw this.failure;
    throw new Error(`packet ${row} was already decoded`);
  }

  close(): void {
    this.receiver.close();
  }
}
