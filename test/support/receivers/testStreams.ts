/**
 * Test and benchmark support: deterministic guest-like pages, and channels compressed the way QEMU's
 * senders do it (one compressor per channel for the whole migration, a flush at the end of every packet,
 * never finished). Not used by the extension itself.
 */
import type { Transform } from 'node:stream';
import * as zlib from 'node:zlib';

/** xorshift32: the same pages on every Node version, so stored fixtures can be checked against regenerated data. */
export class Prng {
  constructor(private s: number) {
    if (this.s === 0) this.s = 1;
  }
  next(): number {
    let s = this.s;
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    this.s = s >>> 0;
    return this.s;
  }
}

const WORDS =
  'the of and to in is was for on that with as by at from kernel page memory buffer inode dentry task '.split(' ');

/**
 * Pages like a guest's RAM: zero pages, random (incompressible) pages, text, pointer-heavy structures,
 * copies of recent pages (matches reaching into earlier packets) and recent pages with a few bytes changed.
 */
export class PageSource {
  private readonly rng: Prng;
  private readonly recent: Uint8Array[] = [];

  constructor(
    seed: number,
    readonly pageSize = 4096,
    /** Percent of pages that are random bytes. */
    private readonly randomPercent = 10,
  ) {
    this.rng = new Prng(seed);
  }

  next(): Uint8Array {
    const r = this.rng.next() % 100;
    let p: Uint8Array;
    if (r < 20) p = new Uint8Array(this.pageSize);
    else if (r < 20 + this.randomPercent) p = this.random();
    else if (r < 55) p = this.text();
    else if (r < 75) p = this.pointers();
    else if (r < 88 && this.recent.length) p = this.recent[this.rng.next() % this.recent.length].slice();
    else if (this.recent.length) p = this.tweak(this.recent[this.rng.next() % this.recent.length]);
    else p = this.text();
    this.recent.push(p);
    if (this.recent.length > 96) this.recent.shift();
    return p;
  }

  pages(n: number): Uint8Array[] {
    return Array.from({ length: n }, () => this.next());
  }

  private random(): Uint8Array {
    const p = new Uint8Array(this.pageSize);
    const w = new Uint32Array(p.buffer);
    for (let i = 0; i < w.length; i++) w[i] = this.rng.next();
    return p;
  }

  private text(): Uint8Array {
    const p = new Uint8Array(this.pageSize);
    let i = 0;
    while (i < p.length) {
      const w = WORDS[this.rng.next() % WORDS.length];
      for (let k = 0; k < w.length && i < p.length; k++) p[i++] = w.charCodeAt(k);
      if (i < p.length) p[i++] = this.rng.next() % 9 === 0 ? 10 : 32;
    }
    return p;
  }

  private pointers(): Uint8Array {
    const p = new Uint8Array(this.pageSize);
    const v = new DataView(p.buffer);
    const base = 0xffff8880 + (this.rng.next() & 0xf);
    for (let i = 0; i < p.length; i += 16) {
      v.setUint32(i, (this.rng.next() & 0xfff0) | 0x10000000, true);
      v.setUint32(i + 4, base, true);
      v.setUint32(i + 8, this.rng.next() % 7 === 0 ? this.rng.next() : 0, true);
      v.setUint32(i + 12, i >> 4, true);
    }
    return p;
  }

  private tweak(src: Uint8Array): Uint8Array {
    const p = src.slice();
    const n = 1 + (this.rng.next() % 8);
    for (let k = 0; k < n; k++) p[this.rng.next() % p.length] = this.rng.next() & 0xff;
    return p;
  }
}

/** A packet as the sender built it: its normal pages (possibly none) and the payload that went on the wire. */
export interface SentPacket {
  pages: Uint8Array[];
  payload: Uint8Array;
}

/**
 * Compresses packets the way QEMU's multifd senders do: each page written as it comes, a flush after the
 * last page of the packet, the stream never ended. Packets without pages are not fed (QEMU sends no payload).
 */
export async function compressChannel(
  stream: Transform,
  flushKind: number,
  packets: Uint8Array[][],
): Promise<SentPacket[]> {
  let chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  const flushing = stream as Transform & { flush(kind: number, cb: () => void): void };
  const out: SentPacket[] = [];
  for (const pages of packets) {
    if (pages.length === 0) {
      out.push({ pages, payload: new Uint8Array(0) });
      continue;
    }
    for (const p of pages) stream.write(p);
    await new Promise<void>((resolve) => flushing.flush(flushKind, resolve));
    await new Promise((r) => setImmediate(r));
    out.push({ pages, payload: Buffer.concat(chunks) });
    chunks = [];
  }
  stream.destroy();
  return out;
}

/** QEMU's zlib sender: deflateInit(level) once (zlib format), Z_SYNC_FLUSH at each packet end. */
export function compressZlibChannel(packets: Uint8Array[][], level = 1): Promise<SentPacket[]> {
  return compressChannel(zlib.createDeflate({ level }), zlib.constants.Z_SYNC_FLUSH, packets);
}

interface ZstdCompressZlib {
  createZstdCompress?: (options?: { params?: Record<number, number> }) => Transform;
  constants: Record<string, number>;
}

/** QEMU's zstd sender: ZSTD_initCStream(level) once, ZSTD_e_flush at each packet end. Needs Node >= 22.15. */
export function compressZstdChannel(packets: Uint8Array[][], level = 1): Promise<SentPacket[]> {
  const z = zlib as unknown as ZstdCompressZlib;
  if (!z.createZstdCompress) throw new Error('node:zlib has no zstd compressor here (Node >= 22.15 needed)');
  const stream = z.createZstdCompress({ params: { [z.constants.ZSTD_c_compressionLevel]: level } });
  return compressChannel(stream, z.constants.ZSTD_e_flush, packets);
}

/** Builds the page lists of a packet plan (page counts, 0 for an empty packet) from one PageSource. */
export function planPages(source: PageSource, plan: number[]): Uint8Array[][] {
  return plan.map((n) => source.pages(n));
}

export function concatBytes(parts: Uint8Array[]): Uint8Array {
  return Buffer.concat(parts);
}

/** A stored zstd channel for Node versions without a zstd compressor: pages are regenerated from `seed`. */
export interface ChannelFixture {
  name: string;
  level: number;
  seed: number;
  randomPercent: number;
  /** Normal pages per packet; 0 = a packet without payload (SYNC or all-zero pages). */
  plan: number[];
}

/**
 * The first packet is one zero page, whose payload (frame header + one tiny block) is shorter than the
 * 18 bytes some streaming decoders wait for; later packets mix full 512 KiB packets with short ones.
 */
export const ZSTD_FIXTURES: ChannelFixture[] = [
  { name: 'zstd-level1', level: 1, seed: 0x5eed01, randomPercent: 3, plan: [1, 128, 0, 3, 24, 0, 0, 80, 1, 9] },
  { name: 'zstd-level9', level: 9, seed: 0x5eed09, randomPercent: 3, plan: [1, 40, 0, 64, 7] },
];

export function fixturePages(f: ChannelFixture, pageSize = 4096): Uint8Array[][] {
  const source = new PageSource(f.seed, pageSize, f.randomPercent);
  return f.plan.map((n, i) => (i === 0 ? Array.from({ length: n }, () => new Uint8Array(pageSize)) : source.pages(n)));
}
