import * as zlib from 'node:zlib';
import {
  FLAG_SYNC,
  methodFlags,
  pageCount,
  ramPacketLength,
  type CompressionMethod,
} from '../../extension/core/multifd/constants';

/**
 * A test encoder that writes multifd channel bytes the way each QEMU release's sender does (docs/wire/sync-and-replay.md, releases.md):
 *  - '7.2' / '8.2': SYNC may ride on a page packet (flags = method | SYNC), followed by an empty flags-0 packet with
 *    the same packet_num; empty packets keep the stale ramblock and (7.2 only) a stale next_packet_size;
 *    zero pages never appear in packets.
 *  - '9.0': SYNC is its own packet (flags 0x1) with stale ramblock/pages_alloc; zero_pages in packets.
 *  - '9.2' / '10.0': SYNC packets are clean (pages_alloc 0, ramblock "", offsets 0); 10.0 has device-state packets.
 */
export type SenderVersion = '7.2' | '8.2' | '9.0' | '9.2' | '10.0';

export interface PageData {
  offset: number;
  data: Uint8Array;
}

export interface PacketSpec {
  ramblock: string;
  normal?: PageData[];
  zero?: number[];
  /** ≤ 8.2 only: put SYNC on this page packet. */
  sync?: boolean;
  packetNum: number;
}

export class MultifdChannelEncoder {
  private readonly parts: Uint8Array[] = [];
  private readonly packetLen: number;
  private readonly pageCount: number;
  private lastRamblock = '';
  private lastNextPacketSize = 0;
  private lastOffsets = new Uint8Array(0);
  private deflate?: zlib.Deflate;
  private deflateOut: Buffer[] = [];

  constructor(
    private readonly opts: {
      version: SenderVersion;
      pageSize: number;
      channelId: number;
      uuid?: Uint8Array;
      method?: CompressionMethod;
    },
  ) {
    this.packetLen = ramPacketLength(opts.pageSize);
    this.pageCount = pageCount(opts.pageSize);
    const init = new Uint8Array(64);
    const v = new DataView(init.buffer);
    v.setUint32(0, 0x11223344);
    v.setUint32(4, 1);
    init.set(opts.uuid ?? new Uint8Array(16), 8);
    init[24] = opts.channelId;
    this.parts.push(init);
    if (opts.method === 'zlib') {
      this.deflate = zlib.createDeflate({ level: 1 });
      this.deflate.on('data', (c: Buffer) => this.deflateOut.push(c));
    }
  }

  private get old(): boolean {
    return this.opts.version === '7.2' || this.opts.version === '8.2';
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
    const h = new Uint8Array(this.packetLen);
    const v = new DataView(h.buffer);
    v.setUint32(0, 0x11223344);
    v.setUint32(4, 1);
    v.setUint32(8, flags);
    v.setUint32(12, pagesAlloc);
    v.setUint32(16, normal);
    v.setUint32(20, nps);
    v.setBigUint64(24, BigInt(packetNum));
    v.setUint32(32, zero);
    h.set(new TextEncoder().encode(ramblock).subarray(0, 256), 64);
    offsets.forEach((o, i) => v.setBigUint64(320 + 8 * i, BigInt(o)));
    return h;
  }

  private async compress(pages: PageData[]): Promise<Uint8Array> {
    const method = this.opts.method ?? 'none';
    if (method === 'none') {
      const out = new Uint8Array(pages.length * this.opts.pageSize);
      pages.forEach((p, i) => out.set(p.data, i * this.opts.pageSize));
      return out;
    }
    if (method === 'zlib') {
      for (const p of pages) this.deflate!.write(p.data);
      await new Promise<void>((r) => this.deflate!.flush(zlib.constants.Z_SYNC_FLUSH, () => r()));
      const out = Buffer.concat(this.deflateOut);
      this.deflateOut = [];
      return new Uint8Array(out);
    }
    throw new Error(`test encoder: ${method} not supported on this runtime`);
  }

  /** A packet with pages (normal and, for ≥ 9.0, zero). */
  async packet(spec: PacketSpec): Promise<this> {
    const normal = spec.normal ?? [];
    const zero = spec.zero ?? [];
    if (this.old && zero.length) throw new Error('≤ 8.2 senders put no zero pages in packets');
    if (!this.old && spec.sync) throw new Error('≥ 9.0 senders never put SYNC on a page packet');
    const payload = normal.length ? await this.compress(normal) : new Uint8Array(0);
    const method = this.opts.method ?? 'none';
    let flags = methodFlags(method);
    if (spec.sync) flags |= FLAG_SYNC;
    const offsets = [...normal.map((p) => p.offset), ...zero];
    const h = this.header(
      flags,
      this.pageCount,
      normal.length,
      zero.length,
      payload.length,
      spec.packetNum,
      spec.ramblock,
      offsets,
    );
    this.parts.push(h, payload);
    this.lastRamblock = spec.ramblock;
    this.lastNextPacketSize = payload.length;
    this.lastOffsets = h.slice(320);
    if (spec.sync) {
      // ≤ 8.2: the SYNC job and the page job were both pending: an empty flags-0 packet follows with the same number.
      this.empty(0, spec.packetNum);
    }
    return this;
  }

  /** An empty packet in the sender's style (SYNC or the ≤ 8.2 trailer). */
  private empty(flags: number, packetNum: number): void {
    const v = this.opts.version;
    if (v === '9.2' || v === '10.0') {
      this.parts.push(this.header(flags, 0, 0, 0, 0, packetNum, '', []));
      return;
    }
    const nps = v === '7.2' ? this.lastNextPacketSize : 0;
    const h = this.header(flags, this.pageCount, 0, 0, nps, packetNum, this.lastRamblock, []);
    h.set(this.lastOffsets.subarray(0, h.length - 320), 320);
    this.parts.push(h);
  }

  sync(packetNum: number): this {
    this.empty(FLAG_SYNC, packetNum);
    return this;
  }

  /** 10.0+: MultiFDPacketDeviceState_t + blob. */
  deviceState(idstr: string, instanceId: number, blob: Uint8Array): this {
    const h = new Uint8Array(276);
    const v = new DataView(h.buffer);
    v.setUint32(0, 0x11223344);
    v.setUint32(4, 1);
    v.setUint32(8, 0x40);
    h.set(new TextEncoder().encode(idstr).subarray(0, 255), 12);
    v.setUint32(268, instanceId);
    v.setUint32(272, blob.length);
    this.parts.push(h, blob);
    return this;
  }

  raw(bytes: Uint8Array): this {
    this.parts.push(bytes);
    return this;
  }

  bytes(): Uint8Array {
    const n = this.parts.reduce((a, p) => a + p.length, 0);
    const out = new Uint8Array(n);
    let o = 0;
    for (const p of this.parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }
}

/** Deterministic page contents for tests. */
export function page(
  pageSize: number,
  seed: number,
  kind: 'random' | 'zero' | 'pattern' | 'one-byte' = 'random',
): Uint8Array {
  const p = new Uint8Array(pageSize);
  if (kind === 'zero') return p;
  if (kind === 'one-byte') {
    p[seed % pageSize] = 1 + (seed % 255);
    return p;
  }
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < pageSize; i++) {
    if (kind === 'pattern') p[i] = (i + seed) & 0x0f;
    else {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      p[i] = x & 0xff;
    }
  }
  return p;
}
