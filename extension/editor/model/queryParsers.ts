import type { PacketRef } from '../../shared/protocol';

/** Parses "0x1f000", "126976", "pc.ram:0x1f000", "0x1f000 pc.ram", "pc.ram 0x1f000". */
export function parsePageQuery(text: string): { offset: number; block?: string } | { error: string } {
  const t = text.trim();
  if (!t) return { error: 'enter a page offset (hex 0x… or decimal), optionally with a ramblock: pc.ram:0x1f000' };
  const num = /^(0x[0-9a-f_]+|\d[\d_]*)$/i;
  const parts =
    t.includes(':') && !/^0x/i.test(t)
      ? [t.slice(0, t.lastIndexOf(':')), t.slice(t.lastIndexOf(':') + 1)]
      : t.split(/\s+/);
  if (parts.length === 1) {
    if (!num.test(parts[0])) return { error: `"${parts[0]}" is not an offset (hex 0x… or decimal)` };
    return { offset: toNumber(parts[0]) };
  }
  if (parts.length !== 2) return { error: 'expected an offset and at most one ramblock name' };
  const [a, b] = parts.map((p) => p.trim());
  if (num.test(b)) return { offset: toNumber(b), block: a };
  if (num.test(a)) return { offset: toNumber(a), block: b };
  return { error: `neither "${a}" nor "${b}" is an offset` };
}

function toNumber(s: string): number {
  const c = s.replace(/_/g, '');
  return /^0x/i.test(c) ? parseInt(c.slice(2), 16) : Number(c);
}

/** Parses Go to Packet input: "3:12" / "stream 3 packet 12" / "#45" (packet_num) / "12" (view row). */
export function parsePacketQuery(
  text: string,
): { ref: PacketRef } | { packetNum: number } | { viewIndex: number } | { error: string } {
  const t = text.trim().toLowerCase();
  let m = /^(?:stream\s*)?(\d+)\s*[:/ ]\s*(?:packet\s*)?(\d+)$/.exec(t);
  if (m) return { ref: { stream: Number(m[1]), index: Number(m[2]) } };
  m = /^(?:#|packet_num\s*=?=?\s*)(0x[0-9a-f]+|\d+)$/.exec(t);
  if (m) return { packetNum: toNumber(m[1]) };
  m = /^(?:row\s*)?(\d+)$/.exec(t);
  if (m) return { viewIndex: Number(m[1]) };
  return { error: 'use "stream:index" (3:12), "#packet_num" (#45) or a row number in the list' };
}
