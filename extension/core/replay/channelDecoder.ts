import type { StreamBytes } from '../capture/streamBytes';
import type { MultifdStreamIndex } from '../multifd/indexMultifdStream';
import { pagesInPayload } from '../multifd/framing';
import { StreamHoleError } from '../capture/captureEnded';
import { createReceiver, type PacketPayloadReceiver, type ReceiverOptions } from './receivers/receiver';

/** Gives a channel's decoded pages packet by packet; implemented in-thread and by the worker pool. */
export interface PacketDecoder {
  readonly failedRow: number;
  decode(row: number): Promise<Uint8Array>;
  close(): void;
}

export interface ChannelDecoderOptions extends ReceiverOptions {
  /**
   * Random access (the editor): a packet before the codec's position starts the channel's codec stream over,
   * and a failure is forgotten (the next request starts over). Without it (replay) packets are asked for in
   * channel order, a packet cannot be asked for twice, and a failure is final.
   */
  randomAccess?: boolean;
  /** With randomAccess: how many recently decoded packets are kept for being asked again. */
  keep?: number;
}

/** Called every 256 packets while decoding up to `target`. */
export type DecodeProgress = (row: number, target: number) => void;

/**
 * Decodes one channel's payloads strictly in channel order (zlib and zstd keep one codec stream per channel),
 * for replay, which asks in epoch order, and for the editor, which asks for any packet. Asking for packet r
 * decodes every earlier data packet of the channel first; results not yet asked for wait in a small buffer
 * (within a channel the two orders agree in practice, so it stays empty). Requests run one at a time.
 */
export class ChannelDecoder implements PacketDecoder {
  private receiver: PacketPayloadReceiver;
  private next = 0;
  private readonly pending = new Map<number, Uint8Array>();
  private failure: Error | undefined;
  private failedAt = -1;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly index: MultifdStreamIndex,
    private readonly stream: StreamBytes,
    private readonly options: ChannelDecoderOptions = {},
  ) {
    this.receiver = this.newReceiver();
  }

  /** Row of the packet whose decoding failed, or -1. */
  get failedRow(): number {
    return this.failedAt;
  }

  /** The decoded normal pages of packet `row` (pagesInPayload × page_size bytes, in offset[] order). */
  decode(row: number, onProgress?: DecodeProgress): Promise<Uint8Array> {
    const job = this.chain.then(() => this.decodeInOrder(row, onProgress));
    this.chain = job.catch(() => undefined);
    return job;
  }

  close(): void {
    this.receiver.close();
  }

  private newReceiver(): PacketPayloadReceiver {
    return createReceiver(this.index.method ?? 'none', this.index.pageSize, this.options);
  }

  private restart(): void {
    this.receiver.close();
    this.receiver = this.newReceiver();
    this.next = 0;
    this.pending.clear();
    this.failure = undefined;
  }

  private async decodeInOrder(row: number, onProgress?: DecodeProgress): Promise<Uint8Array> {
    const random = this.options.randomAccess ?? false;
    const ready = this.pending.get(row);
    if (ready) {
      if (!random) this.pending.delete(row);
      return ready;
    }
    if (random && (row < this.next || this.failure)) this.restart();
    // Without state between packets (nocomp, qpl, uadk, qatzip) the earlier packets are not needed.
    if (random && this.receiver.packetsIndependent) this.next = row;
    const t = this.index.packets;
    while (this.next <= row) {
      const r = this.next++;
      if (t.isDeviceState(r) || t.normalPages.get(r) === 0) continue;
      if (this.failure) throw this.failure;
      const start = t.headerOffset.get(r) + t.headerLength.get(r);
      const end = start + t.payloadLength.get(r);
      // A hole: a packet on its own loses only itself (replay names its pages); a continuous codec stream
      // (zlib, zstd) cannot go on past it, and decoding later packets with the wrong history would be garbage.
      const hole = this.stream.holeIn(this.receiver.packetsIndependent ? start : 0, end);
      if (hole) {
        const e = new StreamHoleError(hole, start, end);
        if (this.receiver.packetsIndependent) {
          if (r === row) throw e;
          continue;
        }
        this.failure = e;
        this.failedAt = r;
        throw e;
      }
      const payload = await this.stream.read(start, end);
      let out: Uint8Array;
      try {
        out = await this.receiver.receive(payload, pagesInPayload(t.normalPages.get(r), this.index.pageSize));
      } catch (e) {
        this.failure = e as Error;
        this.failedAt = r;
        throw e;
      }
      if (random) this.keepRecent(r, out);
      if (r === row) return out;
      if (!random) this.pending.set(r, out);
      if (onProgress && (r & 0xff) === 0xff) onProgress(r, row);
    }
    if (this.failure) throw this.failure;
    throw new Error(
      t.isDeviceState(row) || t.normalPages.get(row) === 0
        ? `packet ${row} carries no pages`
        : `packet ${row} was already decoded`,
    );
  }

  private keepRecent(r: number, out: Uint8Array): void {
    const keep = this.options.keep ?? 0;
    if (keep <= 0) return;
    this.pending.set(r, out);
    while (this.pending.size > keep) this.pending.delete(this.pending.keys().next().value!);
  }
}
