import { createReceiver, type PacketPayloadReceiver } from '../../core/replay/receivers/receiver';
import type { PacketSource } from './packetIndex';

/** Decoded packets kept per channel: revisiting a packet, or its neighbours, does not decode again. */
const DECODED_CACHE = 8;

/**
 * The decoded pages of one channel's packets, for the page view. QEMU's zlib and zstd keep one codec
 * stream per channel, so packet r decodes after every earlier data packet of its channel; requests are
 * served one at a time, going forward from the last one, and start the channel over when asked for an
 * earlier packet.
 */
export class ChannelPages {
  private receiver: PacketPayloadReceiver;
  private next = 0;
  private readonly cache = new Map<number, Uint8Array>();
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly source: PacketSource,
    private readonly pageSize: number,
  ) {
    this.receiver = this.newReceiver();
  }

  private newReceiver(): PacketPayloadReceiver {
    return createReceiver(this.source.index.method ?? 'none', this.pageSize);
  }

  private restart(): void {
    this.receiver.close();
    this.receiver = this.newReceiver();
    this.next = 0;
  }

  /** The normal pages of packet `row`, decoded (normal_pages × page size bytes). */
  decode(row: number, onProgress?: (message: string) => void): Promise<Uint8Array> {
    const job = this.chain.then(() => this.decodeInOrder(row, onProgress));
    this.chain = job.catch(() => {
      // A failed codec stream stays failed: start over next time.
      this.restart();
      this.cache.clear();
    });
    return job;
  }

  private async decodeInOrder(row: number, onProgress?: (message: string) => void): Promise<Uint8Array> {
    const hit = this.cache.get(row);
    if (hit) return hit;
    // Earlier than where the channel's codec stream is: start it over.
    if (row < this.next) this.restart();
    const t = this.source.index.packets;
    let result: Uint8Array | undefined;
    while (this.next <= row) {
      const r = this.next++;
      if (t.isDeviceState(r) || t.normalPages.get(r) === 0) continue;
      const start = t.headerOffset.get(r) + t.headerLength.get(r);
      const payload = await this.source.bytes.read(start, start + t.payloadLength.get(r));
      const out = await this.receiver.receive(payload, Math.min(t.normalPages.get(r), t.pagesAlloc.get(r)));
      if (r === row || row - r < DECODED_CACHE) {
        this.cache.set(r, new Uint8Array(out));
        for (const oldest of this.cache.keys()) {
          if (this.cache.size <= DECODED_CACHE) break;
          this.cache.delete(oldest);
        }
      }
      if (r === row) result = out;
      if ((r & 0xff) === 0xff) onProgress?.(`decoding channel ${this.source.channel}: packet ${r} of ${row}`);
    }
    if (!result) throw new Error(`packet ${row} of stream ${this.source.index.streamId} carries no pages`);
    return result;
  }

  close(): void {
    this.receiver.close();
  }
}
