import { readFileSync } from 'node:fs';

/**
 * A deliberately separate, minimal reading of a small capture, sharing no code with the decoder: the whole
 * file in memory, DataView reads, the framing rules written out again. The real-QEMU suite checks that
 * `mfd inspect` counts the same things as this walk.
 */
export interface WalkCounts {
  stream: number;
  channel: number;
  packets: number;
  syncPackets: number;
  normalPages: number;
  zeroPages: number;
  bytes: number;
}

export function independentWalk(path: string, pageSize = 4096): WalkCounts[] {
  const file = readFileSync(path);
  const streams = new Map<number, Buffer[]>();
  if (file.subarray(0, 8).toString('latin1') === 'QMFDCAP\n') {
    let pos = file.readUInt16LE(10);
    while (pos + 16 <= file.length) {
      const type = file[pos];
      const flags = file[pos + 1];
      const id = file.readUInt16LE(pos + 2);
      const len = file.readUInt32LE(pos + 4);
      if (pos + 16 + len > file.length) break;
      if (type === 3 && (flags & 1) === 0) {
        if (!streams.has(id)) streams.set(id, []);
        streams.get(id)!.push(file.subarray(pos + 16, pos + 16 + len));
      }
      pos += 16 + len;
    }
  } else streams.set(0, [file]);

  const out: WalkCounts[] = [];
  const packetLen = 320 + 8 * (524288 / pageSize);
  for (const [id, parts] of [...streams].sort((a, b) => a[0] - b[0])) {
    const s = Buffer.concat(parts);
    if (s.length < 64 || s.readUInt32BE(0) !== 0x11223344) continue;
    const c: WalkCounts = {
      stream: id,
      channel: s[24],
      packets: 0,
      syncPackets: 0,
      normalPages: 0,
      zeroPages: 0,
      bytes: s.length,
    };
    let pos = 64;
    while (pos + 12 <= s.length) {
      if (s.readUInt32BE(pos) !== 0x11223344) throw new Error(`independent walk: stream ${id} lost framing at ${pos}`);
      const flags = s.readUInt32BE(pos + 8);
      c.packets++;
      if (flags & 0x40) {
        pos += 276 + s.readUInt32BE(pos + 272);
        continue;
      }
      const normal = s.readUInt32BE(pos + 16);
      const zero = s.readUInt32BE(pos + 32);
      const nps = s.readUInt32BE(pos + 20);
      if (flags & 1) c.syncPackets++;
      c.normalPages += normal;
      c.zeroPages += zero;
      pos += packetLen + (normal === 0 ? 0 : ((flags >>> 1) & 0x1f) === 0 ? normal * pageSize : nps);
    }
    if (pos !== s.length) throw new Error(`independent walk: stream ${id} ends at ${pos} of ${s.length}`);
    out.push(c);
  }
  return out;
}
