import { readFileSync, writeFileSync } from 'node:fs';

/**
 * Reads and rewrites classic pcap files for tests (tcpdump's default format), independently of the project's
 * reader: the frames of an Ethernet/IPv4 capture with their TCP ports and payload sizes, and a copy of the file
 * without some frames (a drop the kernel could have made).
 */

export interface FrameInfo {
  index: number;
  /** File offset of the record header. */
  recordOffset: number;
  recordLength: number;
  sport: number;
  dport: number;
  seq: number;
  /** TCP flags byte (0x02 SYN, 0x10 ACK, 0x01 FIN). */
  flags: number;
  payloadOffset: number;
  payloadLength: number;
}

export function pcapFrames(path: string): { file: Buffer; frames: FrameInfo[] } {
  const file = readFileSync(path);
  if (file.readUInt32LE(0) !== 0xa1b2c3d4 || file.readUInt32LE(20) !== 1)
    throw new Error(`${path}: expected a little-endian microsecond pcap of Ethernet frames`);
  const frames: FrameInfo[] = [];
  let pos = 24;
  while (pos + 16 <= file.length) {
    const caplen = file.readUInt32LE(pos + 8);
    const frame = pos + 16;
    if (frame + caplen > file.length) break;
    const ip = frame + 14;
    if (file.readUInt16BE(frame + 12) === 0x0800 && file[ip + 9] === 6) {
      const ihl = (file[ip] & 0x0f) * 4;
      const total = file.readUInt16BE(ip + 2);
      const tcp = ip + ihl;
      const doff = (file[tcp + 12] >> 4) * 4;
      frames.push({
        index: frames.length,
        recordOffset: pos,
        recordLength: 16 + caplen,
        sport: file.readUInt16BE(tcp),
        dport: file.readUInt16BE(tcp + 2),
        seq: file.readUInt32BE(tcp + 4),
        flags: file[tcp + 13],
        payloadOffset: tcp + doff,
        payloadLength: total - ihl - doff,
      });
    }
    pos = frame + caplen;
  }
  return { file, frames };
}

/** Writes `path` as a copy of the pcap without the given frames (by record offset). */
export function writeWithout(file: Buffer, drop: FrameInfo[], path: string): void {
  const skip = new Set(drop.map((f) => f.recordOffset));
  const parts: Buffer[] = [file.subarray(0, 24)];
  let pos = 24;
  while (pos + 16 <= file.length) {
    const len = 16 + file.readUInt32LE(pos + 8);
    if (!skip.has(pos)) parts.push(file.subarray(pos, pos + len));
    pos += len;
  }
  writeFileSync(path, Buffer.concat(parts));
}
