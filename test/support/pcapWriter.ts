/**
 * Builds small pcap and pcapng files for the reader's edge cases: TCP segments in any order, retransmissions,
 * sequence wrap, snaplen cuts, several link types and IPv4/IPv6. Real tcpdump files come from the real-QEMU
 * tests; these cover what a quiet loopback never produces.
 */

export type LinkType = 'ethernet' | 'sll' | 'sll2' | 'null' | 'raw';

export interface TcpFrame {
  src: string;
  dst: string;
  sport: number;
  dport: number;
  seq: number;
  ack?: number;
  flags: { syn?: boolean; ack?: boolean; fin?: boolean; rst?: boolean };
  payload?: Uint8Array;
  timeUs?: number;
  /** Keep only this many bytes of the frame (a snaplen cut). */
  snap?: number;
}

const LINK_NUMBER: Record<LinkType, number> = { ethernet: 1, sll: 113, sll2: 276, null: 0, raw: 101 };

function ip4(a: string): number[] {
  return a.split('.').map(Number);
}

function ip6(a: string): number[] {
  const [head, tail] = a.includes('::') ? a.split('::') : [a, undefined];
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const groups = [...h, ...Array(8 - h.length - t.length).fill('0'), ...t].map((g) => parseInt(g, 16));
  return groups.flatMap((g) => [g >> 8, g & 0xff]);
}

function be16(n: number): number[] {
  return [(n >> 8) & 0xff, n & 0xff];
}

function be32(n: number): number[] {
  return [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
}

/** One frame's bytes: link header, IP header (v6 when the address has a ':'), TCP header, payload. */
export function frameBytes(link: LinkType, f: TcpFrame): Uint8Array {
  const payload = f.payload ?? new Uint8Array(0);
  const flags = (f.flags.fin ? 1 : 0) | (f.flags.syn ? 2 : 0) | (f.flags.rst ? 4 : 0) | (f.flags.ack ? 0x10 : 0);
  const tcp = [
    ...be16(f.sport),
    ...be16(f.dport),
    ...be32(f.seq >>> 0),
    ...be32((f.ack ?? 0) >>> 0),
    0x50,
    flags,
    ...be16(65535),
    0,
    0,
    0,
    0,
  ];
  const v6 = f.src.includes(':');
  const ipHeader = v6
    ? [0x60, 0, 0, 0, ...be16(tcp.length + payload.length), 6, 64, ...ip6(f.src), ...ip6(f.dst)]
    : [0x45, 0, ...be16(20 + tcp.length + payload.length), 0, 0, 0x40, 0, 64, 6, 0, 0, ...ip4(f.src), ...ip4(f.dst)];
  const ethertype = v6 ? 0x86dd : 0x0800;
  const linkHeader =
    link === 'ethernet'
      ? [...Array(12).fill(0), ...be16(ethertype)]
      : link === 'sll'
        ? [0, 0, 0, 1, 0, 6, ...Array(8).fill(0), ...be16(ethertype)]
        : link === 'sll2'
          ? [...be16(ethertype), 0, 0, 0, 0, 0, 1, 0, 1, 0, 6, ...Array(8).fill(0)]
          : link === 'null'
            ? [v6 ? 10 : 2, 0, 0, 0]
            : [];
  return Uint8Array.from([...linkHeader, ...ipHeader, ...tcp, ...payload]);
}

/** A classic pcap file (little-endian, microseconds). */
export function pcapFile(link: LinkType, frames: TcpFrame[], options: { snaplen?: number } = {}): Buffer {
  const parts: Buffer[] = [];
  const gh = Buffer.alloc(24);
  gh.writeUInt32LE(0xa1b2c3d4, 0);
  gh.writeUInt16LE(2, 4);
  gh.writeUInt16LE(4, 6);
  gh.writeUInt32LE(options.snaplen ?? 262144, 16);
  gh.writeUInt32LE(LINK_NUMBER[link], 20);
  parts.push(gh);
  frames.forEach((f, i) => {
    const whole = frameBytes(link, f);
    const kept = whole.subarray(0, Math.min(whole.length, f.snap ?? whole.length));
    const rh = Buffer.alloc(16);
    const t = f.timeUs ?? 1_700_000_000_000_000 + i * 10;
    rh.writeUInt32LE(Math.floor(t / 1e6), 0);
    rh.writeUInt32LE(t % 1e6, 4);
    rh.writeUInt32LE(kept.length, 8);
    rh.writeUInt32LE(whole.length, 12);
    parts.push(rh, Buffer.from(kept));
  });
  return Buffer.concat(parts);
}

function pad4(b: Buffer): Buffer {
  return b.length % 4 === 0 ? b : Buffer.concat([b, Buffer.alloc(4 - (b.length % 4))]);
}

function block(type: number, body: Buffer): Buffer {
  const len = 12 + body.length;
  const b = Buffer.alloc(len);
  b.writeUInt32LE(type, 0);
  b.writeUInt32LE(len, 4);
  body.copy(b, 8);
  b.writeUInt32LE(len, len - 4);
  return b;
}

/** A pcapng file: one section, one interface (nanosecond timestamps), enhanced packet blocks. */
export function pcapngFile(link: LinkType, frames: TcpFrame[]): Buffer {
  const shb = Buffer.alloc(16);
  shb.writeUInt32LE(0x1a2b3c4d, 0);
  shb.writeUInt16LE(1, 4);
  shb.writeUInt16LE(0, 6);
  shb.writeBigInt64LE(-1n, 8);
  const idb = Buffer.alloc(8 + 8 + 4);
  idb.writeUInt16LE(LINK_NUMBER[link], 0);
  idb.writeUInt32LE(262144, 4);
  // if_tsresol = 9: nanoseconds; then opt_endofopt.
  idb.writeUInt16LE(9, 8);
  idb.writeUInt16LE(1, 10);
  idb.writeUInt8(9, 12);
  const parts = [block(0x0a0d0d0a, shb), block(1, idb)];
  frames.forEach((f, i) => {
    const whole = frameBytes(link, f);
    const kept = whole.subarray(0, Math.min(whole.length, f.snap ?? whole.length));
    const t = BigInt(f.timeUs ?? 1_700_000_000_000_000 + i * 10) * 1000n;
    const h = Buffer.alloc(20);
    h.writeUInt32LE(0, 0);
    h.writeUInt32LE(Number(t >> 32n), 4);
    h.writeUInt32LE(Number(t & 0xffffffffn), 8);
    h.writeUInt32LE(kept.length, 12);
    h.writeUInt32LE(whole.length, 16);
    parts.push(block(6, pad4(Buffer.concat([h, Buffer.from(kept)]))));
  });
  return Buffer.concat(parts);
}

/**
 * One TCP connection's frames: handshake, the client's bytes in segments of `mss`, the server's bytes, FINs.
 * `isn` picks the initial sequence numbers (near 2^32 to test wrap).
 */
export function tcpConnection(o: {
  client: [string, number];
  server: [string, number];
  toServer: Uint8Array;
  toClient?: Uint8Array;
  mss?: number;
  isn?: [number, number];
  startUs?: number;
}): TcpFrame[] {
  const [cip, cport] = o.client;
  const [sip, sport] = o.server;
  const [ci, si] = o.isn ?? [1000, 5000];
  const mss = o.mss ?? 1000;
  let t = o.startUs ?? 1_700_000_000_000_000;
  const c2s = (seq: number, flags: TcpFrame['flags'], payload?: Uint8Array): TcpFrame => ({
    src: cip,
    dst: sip,
    sport: cport,
    dport: sport,
    seq: seq >>> 0,
    flags,
    payload,
    timeUs: (t += 10),
  });
  const s2c = (seq: number, flags: TcpFrame['flags'], payload?: Uint8Array): TcpFrame => ({
    src: sip,
    dst: cip,
    sport,
    dport: cport,
    seq: seq >>> 0,
    flags,
    payload,
    timeUs: (t += 10),
  });
  const frames: TcpFrame[] = [c2s(ci, { syn: true }), s2c(si, { syn: true, ack: true }), c2s(ci + 1, { ack: true })];
  for (let at = 0; at < o.toServer.length; at += mss)
    frames.push(c2s(ci + 1 + at, { ack: true }, o.toServer.subarray(at, at + mss)));
  const back = o.toClient ?? new Uint8Array(0);
  for (let at = 0; at < back.length; at += mss)
    frames.push(s2c(si + 1 + at, { ack: true }, back.subarray(at, at + mss)));
  frames.push(
    c2s(ci + 1 + o.toServer.length, { fin: true, ack: true }),
    s2c(si + 1 + back.length, { fin: true, ack: true }),
  );
  return frames;
}
