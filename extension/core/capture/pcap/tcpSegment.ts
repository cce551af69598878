/**
 * From a captured frame's first bytes to its TCP segment: the link layers tcpdump writes on Linux (Ethernet,
 * with VLAN tags; Linux cooked v1 and v2; BSD loopback; raw IP), IPv4 and IPv6 (extension headers walked), TCP.
 * Only headers are read; the payload stays in the file, located by its offset.
 */

export interface TcpSegment {
  /** "addr:port" of each end, IPv6 in brackets. */
  source: string;
  destination: string;
  seq: number;
  syn: boolean;
  ack: boolean;
  fin: boolean;
  rst: boolean;
  /** Offset of the TCP payload within the frame. */
  payloadOffset: number;
  /** Payload length on the wire (from the IP length). */
  payloadLength: number;
}

/** Why a frame carries no usable TCP segment; `skip` frames are simply not TCP (ARP, UDP, …). */
export type NotTcp = { skip: true; reason: string } | { skip: false; reason: string };

export const LINKTYPE = {
  NULL: 0,
  ETHERNET: 1,
  RAW: 101,
  LOOP: 108,
  LINUX_SLL: 113,
  IPV4: 228,
  IPV6: 229,
  LINUX_SLL2: 276,
} as const;
/** Older numbers some systems write for raw IP. */
const RAW_ALIASES = new Set([12, 14]);
const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
const ETHERTYPE_VLAN = [0x8100, 0x88a8, 0x9100];
const IPPROTO_TCP = 6;
const IPV6_EXTENSIONS = new Set([0, 43, 60, 135, 139, 140]);
const IPV6_FRAGMENT = 44;

/** Link-layer bytes needed before the IP header, at most: enough to read a frame's headers in one read. */
export const HEADER_BYTES_NEEDED = 256;

export function isSupportedLinkType(t: number): boolean {
  return (Object.values(LINKTYPE) as number[]).includes(t) || RAW_ALIASES.has(t);
}

/** Where the IP header starts and which version it is, or why not. */
function ipStart(linkType: number, b: Uint8Array): { at: number; version?: 4 | 6 } | NotTcp {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const byEthertype = (t: number, at: number): { at: number; version: 4 | 6 } | NotTcp =>
    t === ETHERTYPE_IPV4
      ? { at, version: 4 }
      : t === ETHERTYPE_IPV6
        ? { at, version: 6 }
        : { skip: true, reason: `ethertype 0x${t.toString(16)}` };
  switch (linkType) {
    case LINKTYPE.ETHERNET: {
      if (b.length < 14) return { skip: false, reason: 'Ethernet header cut short' };
      let at = 12;
      let t = dv.getUint16(at);
      while (ETHERTYPE_VLAN.includes(t)) {
        at += 4;
        if (b.length < at + 2) return { skip: false, reason: 'VLAN tag cut short' };
        t = dv.getUint16(at);
      }
      return byEthertype(t, at + 2);
    }
    case LINKTYPE.LINUX_SLL:
      if (b.length < 16) return { skip: false, reason: 'Linux cooked header cut short' };
      return byEthertype(dv.getUint16(14), 16);
    case LINKTYPE.LINUX_SLL2:
      if (b.length < 20) return { skip: false, reason: 'Linux cooked v2 header cut short' };
      return byEthertype(dv.getUint16(0), 20);
    case LINKTYPE.NULL:
    case LINKTYPE.LOOP: {
      if (b.length < 4) return { skip: false, reason: 'loopback header cut short' };
      // The address family: host order for NULL (either, in practice), network order for LOOP. 2 = AF_INET;
      // AF_INET6 is 10 on Linux, 24/28/30 on the BSDs.
      const family = linkType === LINKTYPE.LOOP ? dv.getUint32(0) : Math.min(dv.getUint32(0, true), dv.getUint32(0));
      if (family === 2) return { at: 4, version: 4 };
      if ([10, 24, 28, 30].includes(family)) return { at: 4, version: 6 };
      return { skip: true, reason: `address family ${family}` };
    }
    case LINKTYPE.IPV4:
      return { at: 0, version: 4 };
    case LINKTYPE.IPV6:
      return { at: 0, version: 6 };
    default:
      if (linkType === LINKTYPE.RAW || RAW_ALIASES.has(linkType)) return { at: 0 };
      return { skip: false, reason: `link type ${linkType} is not one tcpdump writes on Linux` };
  }
}

/**
 * Parses `b` (the frame's first bytes, up to HEADER_BYTES_NEEDED) down to its TCP header.
 */
export function parseTcpSegment(linkType: number, b: Uint8Array): TcpSegment | NotTcp {
  const start = ipStart(linkType, b);
  if ('reason' in start) return start;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let at = start.at;
  if (b.length < at + 1) return { skip: false, reason: 'IP header cut short' };
  const version = start.version ?? b[at] >> 4;
  let proto: number;
  let payloadEnd: number;
  let src: string;
  let dst: string;
  if (version === 4) {
    if (b.length < at + 20) return { skip: false, reason: 'IPv4 header cut short' };
    const ihl = (b[at] & 0x0f) * 4;
    const total = dv.getUint16(at + 2);
    const frag = dv.getUint16(at + 6);
    proto = b[at + 9];
    if (proto !== IPPROTO_TCP) return { skip: true, reason: `IP protocol ${proto}` };
    if (frag & 0x3fff) return { skip: false, reason: 'a fragmented IPv4 datagram (not reassembled)' };
    if (ihl < 20 || total < ihl) return { skip: false, reason: `IPv4 header length ${ihl}, total length ${total}` };
    src = Array.from(b.subarray(at + 12, at + 16)).join('.');
    dst = Array.from(b.subarray(at + 16, at + 20)).join('.');
    // TSO on loopback can leave total length 0 in a captured super-segment; the frame length then bounds it.
    payloadEnd = total === 0 ? Infinity : at + total;
    at += ihl;
  } else if (version === 6) {
    if (b.length < at + 40) return { skip: false, reason: 'IPv6 header cut short' };
    const payloadLength = dv.getUint16(at + 4);
    let next = b[at + 6];
    src = `[${ipv6Text(b.subarray(at + 8, at + 24))}]`;
    dst = `[${ipv6Text(b.subarray(at + 24, at + 40))}]`;
    payloadEnd = payloadLength === 0 ? Infinity : at + 40 + payloadLength;
    at += 40;
    while (IPV6_EXTENSIONS.has(next)) {
      if (b.length < at + 2) return { skip: false, reason: 'IPv6 extension header cut short' };
      const n = b[at];
      at += (b[at + 1] + 1) * 8;
      next = n;
    }
    if (next === IPV6_FRAGMENT) return { skip: false, reason: 'a fragmented IPv6 datagram (not reassembled)' };
    proto = next;
    if (proto !== IPPROTO_TCP) return { skip: true, reason: `IPv6 next header ${proto}` };
  } else {
    return { skip: true, reason: `IP version ${version}` };
  }
  if (b.length < at + 20) return { skip: false, reason: 'TCP header cut short' };
  const sport = dv.getUint16(at);
  const dport = dv.getUint16(at + 2);
  const seq = dv.getUint32(at + 4);
  const dataOffset = (b[at + 12] >> 4) * 4;
  const flags = b[at + 13];
  if (dataOffset < 20) return { skip: false, reason: `TCP data offset ${dataOffset}` };
  const payloadOffset = at + dataOffset;
  return {
    source: `${src}:${sport}`,
    destination: `${dst}:${dport}`,
    seq,
    syn: (flags & 0x02) !== 0,
    ack: (flags & 0x10) !== 0,
    fin: (flags & 0x01) !== 0,
    rst: (flags & 0x04) !== 0,
    payloadOffset,
    payloadLength: payloadEnd === Infinity ? -1 : Math.max(0, payloadEnd - payloadOffset),
  };
}

function ipv6Text(a: Uint8Array): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((a[i] << 8) | a[i + 1]).toString(16));
  // The longest run of zero groups becomes "::".
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j;
  }
  if (best < 0) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
}
