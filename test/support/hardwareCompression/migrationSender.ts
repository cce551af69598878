import { FLAG_SYNC, methodFlags, pageCount, ramPacketLength } from '../../../extension/core/multifd/constants';
import { MfdBuilder } from '../../../extension/core/capture/mfdWriter';
import { MainStreamEncoder } from '../mainchannel/mainStreamEncoder';
import { qatzipPayload, qplPayload, uadkPayload, type QatzipOptions, type UadkOptions } from './pagePayloads';

/**
 * A whole multifd migration as QEMU 9.1, 9.2 or 10.0 sends it with qpl, uadk or qatzip, for tests: the main
 * channel (MEM_SIZE, a MULTIFD_FLUSH per sync round) and several multifd channels, written from the senders'
 * code of those releases (multifd.c, multifd-nocomp.c, multifd-zero-page.c and the method's send_prepare):
 *  - packet_num is one counter for all channels, taken by every packet filled, SYNC included;
 *  - zero-page detection runs on the channel (zero-page-detection=multifd): all-zero pages become zero_pages and
 *    the offsets are reordered as multifd_send_zero_page_detect() swaps them;
 *  - 9.1 and 9.2: a batch made only of zero pages skips multifd_send_prepare_header(), so its packet is filled
 *    (and takes a packet_num) but nothing is written: those zero pages never arrive (fixed in 10.0, cdc3970f85);
 *  - 9.1 SYNC packets keep the channel's last ramblock name, pages_alloc and stale offsets; 9.2+ SYNC packets
 *    are zeroed apart from flags and packet_num.
 * `sourceRam` is the source's RAM after the last round; `wireRam` what a destination that applies every page on
 * the wire holds (they differ only where a 9.1/9.2 sender dropped a zero-only packet).
 */
export type HardwareMethod = 'qpl' | 'uadk' | 'qatzip';
export type HardwareSenderVersion = '9.1' | '9.2' | '10.0';

export interface MigrationOptions {
  version: HardwareSenderVersion;
  method: HardwareMethod;
  pageSize: number;
  channels: number;
  /** Pages in the one ramblock. */
  blockPages: number;
  block?: string;
  /** Pages per packet (a batch of multifd_queue_page()); at most the page count of a packet. */
  batch?: number;
  uadk?: UadkOptions;
  qatzip?: QatzipOptions;
  /** Changes a packet's payload before it is written (next_packet_size follows it): for corrupted captures. */
  mutatePayload?(info: { channel: number; packet: number; normalPages: number }, payload: Uint8Array): Uint8Array;
}

interface ChannelState {
  parts: Uint8Array[];
  lastRamblock: string;
  lastOffsets: Uint8Array;
}

export interface SentPacketInfo {
  channel: number;
  /** Index in the channel's packet list. */
  packet: number;
  packetNum: number;
  normal: number[];
  zero: number[];
  sizes?: number[];
  /** false for a 9.1/9.2 zero-only packet that took a packet_num but was never written. */
  written: boolean;
}

export class HardwareMigrationSender {
  readonly sourceRam: Uint8Array;
  readonly wireRam: Uint8Array;
  readonly sent: SentPacketInfo[] = [];
  private readonly ch: ChannelState[];
  private readonly packetCounts: number[];
  private readonly main = new MainStreamEncoder();
  private packetNum = 0;
  private nextChannel = 0;
  private rounds = 0;
  readonly block: string;

  constructor(readonly opts: MigrationOptions) {
    this.block = opts.block ?? 'pc.ram';
    this.sourceRam = new Uint8Array(opts.blockPages * opts.pageSize);
    this.wireRam = new Uint8Array(opts.blockPages * opts.pageSize);
    this.ch = Array.from({ length: opts.channels }, (_, id) => ({
      parts: [handshake(id)],
      lastRamblock: '',
      lastOffsets: new Uint8Array(0),
    }));
    this.packetCounts = new Array(opts.channels).fill(0);
    this.main.header().configuration({ machineType: 'pc-q35-' + opts.version });
    this.main.sectionStart(2, 'ram').memSize([{ name: this.block, usedLength: opts.blockPages * opts.pageSize }]);
  }

  private get ps(): number {
    return this.opts.pageSize;
  }

  /**
   * One round of dirty pages (page index → new contents; absent pages are not re-sent), sent in batches spread
   * round-robin over the channels, then the SYNC on every channel and the main channel's flush.
   */
  round(dirty: Map<number, Uint8Array>): this {
    const order = [...dirty.keys()].sort((a, b) => a - b);
    for (const p of order) this.sourceRam.set(dirty.get(p)!, p * this.ps);
    const batch = Math.min(this.opts.batch ?? pageCount(this.ps), pageCount(this.ps));
    for (let i = 0; i < order.length; i += batch) this.sendBatch(order.slice(i, i + batch).map((p) => p * this.ps));
    for (let c = 0; c < this.opts.channels; c++) this.sync(c);
    if (this.rounds === 0) this.main.flush().eos().footer(2);
    else this.main.sectionPart(2).flush().eos().footer(2);
    this.rounds++;
    return this;
  }

  private sendBatch(offsets: number[]): void {
    const c = this.nextChannel;
    this.nextChannel = (this.nextChannel + 1) % this.opts.channels;
    const ps = this.ps;
    // multifd_send_zero_page_detect(): a zero page is swapped with the last page not yet looked at.
    const o = [...offsets];
    let i = 0;
    let j = o.length - 1;
    while (i <= j) {
      if (!isZero(this.sourceRam.subarray(o[i], o[i] + ps))) {
        i++;
        continue;
      }
      [o[i], o[j]] = [o[j], o[i]];
      j--;
    }
    const normal = o.slice(0, i);
    const zero = o.slice(i);
    const packetNum = this.packetNum++;
    if (normal.length === 0 && this.opts.version !== '10.0') {
      // 9.x: multifd_send_prepare_common() returned false before the header iov was added: nothing is written.
      this.sent.push({ channel: c, packet: -1, packetNum, normal, zero, written: false });
      return;
    }
    const pages = normal.map((off) => this.sourceRam.slice(off, off + ps));
    const payload = normal.length ? this.payload(pages) : { bytes: new Uint8Array(0), sizes: undefined };
    if (this.opts.mutatePayload && normal.length)
      payload.bytes = this.opts.mutatePayload(
        { channel: c, packet: this.packetCounts[c], normalPages: normal.length },
        payload.bytes,
      );
    const h = this.header(
      methodFlags(this.opts.method),
      pageCount(ps),
      normal.length,
      zero.length,
      payload.bytes.length,
      packetNum,
      this.block,
      o,
    );
    const st = this.ch[c];
    st.parts.push(h, payload.bytes);
    st.lastRamblock = this.block;
    st.lastOffsets = h.slice(320);
    this.sent.push({
      channel: c,
      packet: this.packetCounts[c]++,
      packetNum,
      normal,
      zero,
      sizes: payload.sizes,
      written: true,
    });
    for (const off of normal) this.wireRam.set(this.sourceRam.subarray(off, off + ps), off);
    for (const off of zero) this.wireRam.fill(0, off, off + ps);
  }

  private payload(pages: Uint8Array[]) {
    switch (this.opts.method) {
      case 'qpl':
        return qplPayload(pages, this.ps);
      case 'uadk':
        return uadkPayload(pages, this.ps, this.opts.uadk ?? { hardware: true });
      case 'qatzip':
        return qatzipPayload(pages, this.opts.qatzip);
    }
  }

  private sync(c: number): void {
    const st = this.ch[c];
    const packetNum = this.packetNum++;
    if (this.opts.version === '9.1') {
      // The packet buffer is reused: ramblock and offsets stay from the last page packet; pages_alloc is set.
      const h = this.header(FLAG_SYNC, pageCount(this.ps), 0, 0, 0, packetNum, st.lastRamblock, []);
      h.set(st.lastOffsets.subarray(0, h.length - 320), 320);
      st.parts.push(h);
    } else st.parts.push(this.header(FLAG_SYNC, 0, 0, 0, 0, packetNum, '', []));
    this.packetCounts[c]++;
  }

  private header(
    flags: number,
    pagesAlloc: number,
    normal: number,
    zero: number,
    nps: number,
    packetNum: number,
    ramblock: string,
    offsets: number[],
  ): Uint8Array {
    const h = new Uint8Array(ramPacketLength(this.ps));
    const v = new DataView(h.buffer);
    v.setUint32(0, 0x11223344);
    v.setUint32(4, 1);
    v.setUint32(8, flags);
    v.setUint32(12, pagesAlloc);
    v.setUint32(16, normal);
    v.setUint32(20, nps);
    v.setBigUint64(24, BigInt(packetNum));
    v.setUint32(32, zero);
    h.set(new TextEncoder().encode(ramblock).subarray(0, 255), 64);
    offsets.forEach((o, i) => v.setBigUint64(320 + 8 * i, BigInt(o)));
    return h;
  }

  /** The bytes of channel c (handshake, packets). */
  channelBytes(c: number): Uint8Array {
    return concat(this.ch[c].parts);
  }

  mainBytes(): Uint8Array {
    const m = new MainStreamEncoder();
    m.raw(this.main.bytes());
    return m.sectionEnd(2).eos().footer(2).eof().bytes();
  }

  /** A .mfd capture: META (page size, parameters), the main channel as stream 0, channel c as stream c + 1. */
  capture(): Uint8Array {
    const b = new MfdBuilder().meta({
      pageSize: this.ps,
      source: `QEMU ${this.opts.version} (synthetic, from the sender's code)`,
      parameters: {
        'multifd-compression': this.opts.method,
        'multifd-channels': this.opts.channels,
        'zero-page-detection': 'multifd',
      },
    });
    b.data(0, this.mainBytes());
    for (let c = 0; c < this.opts.channels; c++) b.data(c + 1, this.channelBytes(c));
    return b.build();
  }
}

function handshake(channelId: number): Uint8Array {
  const init = new Uint8Array(64);
  const v = new DataView(init.buffer);
  v.setUint32(0, 0x11223344);
  v.setUint32(4, 1);
  init.fill(0xab, 8, 24);
  init[24] = channelId;
  return init;
}

function isZero(p: Uint8Array): boolean {
  for (let i = 0; i < p.length; i++) if (p[i] !== 0) return false;
  return true;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
