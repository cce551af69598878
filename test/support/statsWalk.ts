import { readFileSync } from 'node:fs';

/**
 * A second, deliberately separate reading of a small .mfd capture for the stats tests, sharing no code with the
 * decoder: the container walked record by record (docs/mfd-capture-format.md), each multifd channel's
 * MultiFDPacket_t headers by their framing, and the main channel's RAM section records (MEM_SIZE, ZERO, PAGE,
 * EOS, MULTIFD_FLUSH) with the section headers around them, up to the first device section. It counts what
 * `mfd stats` reports: bytes and packets per stream, SYNC and marker times, epochs, re-sent pages.
 */

interface Segment {
  offset: number;
  ts: number;
  length: number;
}

export interface WalkedStream {
  id: number;
  bytes: number;
  first?: number;
  last?: number;
  segments: Segment[];
  kind: 'main' | 'multifd' | 'other';
  channel?: number;
  packets: WalkedPacket[];
  records: WalkedRecord[];
  /** Main channel: section headers (type, stream offset), the EOF's offset. */
  sections: { type: number; offset: number }[];
  eofOffset?: number;
  /** Timestamp of the DATA record that carried a stream offset. */
  tsAt(offset: number): number;
}

export interface WalkedPacket {
  ts: number;
  sync: boolean;
  epoch: number;
  normal: number;
  zero: number;
  wire: number;
  payload: number;
  block: string;
  offsets: number[];
}

export interface WalkedRecord {
  kind: 'MEM_SIZE' | 'ZERO' | 'PAGE' | 'EOS' | 'FLUSH';
  ts: number;
  offset: number;
  block: string;
  pos: number;
  epoch: number;
}

export function walkCapture(path: string, pageSize = 4096): WalkedStream[] {
  const file = readFileSync(path);
  if (file.subarray(0, 8).toString('latin1') !== 'QMFDCAP\n') throw new Error('statsWalk reads .mfd files only');
  const parts = new Map<number, { segs: Segment[]; chunks: Buffer[]; length: number }>();
  let pos = file.readUInt16LE(10);
  while (pos + 16 <= file.length) {
    const type = file[pos];
    const flags = file[pos + 1];
    const id = file.readUInt16LE(pos + 2);
    const len = file.readUInt32LE(pos + 4);
    const ts = Number(file.readBigUInt64LE(pos + 8));
    if (pos + 16 + len > file.length) break;
    if (type === 3 && (flags & 1) === 0 && len > 0) {
      let p = parts.get(id);
      if (!p) parts.set(id, (p = { segs: [], chunks: [], length: 0 }));
      p.segs.push({ offset: p.length, ts, length: len });
      p.chunks.push(file.subarray(pos + 16, pos + 16 + len));
      p.length += len;
    }
    pos += 16 + len;
  }
  const out: WalkedStream[] = [];
  for (const [id, p] of [...parts].sort((a, b) => a[0] - b[0])) {
    const s = Buffer.concat(p.chunks);
    const tsAt = (offset: number) => {
      let lo = 0;
      let hi = p.segs.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (p.segs[mid].offset <= offset) lo = mid;
        else hi = mid - 1;
      }
      return p.segs[lo].ts;
    };
    const w: WalkedStream = {
      id,
      bytes: s.length,
      first: Math.min(...p.segs.map((g) => g.ts)),
      last: Math.max(...p.segs.map((g) => g.ts)),
      segments: p.segs,
      kind: 'other',
      packets: [],
      records: [],
      sections: [],
      tsAt,
    };
    if (s.readUInt32BE(0) === 0x11223344) walkMultifd(w, s, pageSize, tsAt);
    else if (s.subarray(0, 4).toString('latin1') === 'QEVM') walkMain(w, s, pageSize, tsAt);
    out.push(w);
  }
  return out;
}

function walkMultifd(w: WalkedStream, s: Buffer, pageSize: number, tsAt: (o: number) => number): void {
  w.kind = 'multifd';
  w.channel = s[24];
  const headerLength = 320 + 8 * (524288 / pageSize);
  let pos = 64;
  let syncs = 0;
  while (pos < s.length) {
    if (s.readUInt32BE(pos) !== 0x11223344) throw new Error(`statsWalk: stream ${w.id} lost framing at ${pos}`);
    const flags = s.readUInt32BE(pos + 8);
    if (flags & 0x40) throw new Error('statsWalk: device-state packets are not counted here');
    const normal = s.readUInt32BE(pos + 16);
    const nps = s.readUInt32BE(pos + 20);
    const zero = s.readUInt32BE(pos + 32);
    const payload = normal === 0 ? 0 : ((flags >>> 1) & 0x1f) === 0 ? normal * pageSize : nps;
    const nameBytes = s.subarray(pos + 64, pos + 64 + 255);
    const nul = nameBytes.indexOf(0);
    const offsets: number[] = [];
    for (let i = 0; i < normal + zero; i++) offsets.push(Number(s.readBigUInt64BE(pos + 320 + 8 * i)));
    const sync = (flags & 1) !== 0;
    w.packets.push({
      ts: tsAt(pos),
      sync,
      epoch: syncs,
      normal,
      zero,
      wire: headerLength + payload,
      payload,
      block: nameBytes.subarray(0, nul < 0 ? 255 : nul).toString('latin1'),
      offsets,
    });
    if (sync) syncs++;
    pos += headerLength + payload;
  }
}

/** The main channel up to its first device section: section headers, the RAM records inside, commands skipped. */
function walkMain(w: WalkedStream, s: Buffer, pageSize: number, tsAt: (o: number) => number): void {
  w.kind = 'main';
  let pos = 8;
  let block = '';
  const idstr = () => {
    const n = s[pos];
    const t = s.subarray(pos + 1, pos + 1 + n).toString('latin1');
    pos += 1 + n;
    return t;
  };
  // The configuration section (0x07) holds a vmstate: its end is the first START section of "ram".
  if (s[pos] === 0x07) {
    const start = s.indexOf(Buffer.from([0x03, 0x72, 0x61, 0x6d]), pos); // len 3, "ram" of the START header
    pos = start - 5;
  }
  for (;;) {
    const type = s[pos];
    if (type === 0x01 || type === 0x02 || type === 0x03) {
      w.sections.push({ type, offset: pos });
      pos += 5;
      if (type === 0x01) {
        if (idstr() !== 'ram') throw new Error(`statsWalk: a START section other than ram at ${pos}`);
        pos += 8;
      }
      for (;;) {
        const at = pos;
        const word = s.readBigUInt64BE(pos);
        pos += 8;
        const flags = Number(word & BigInt(pageSize - 1));
        const addr = Number(word & ~BigInt(pageSize - 1));
        const rec = (kind: WalkedRecord['kind']) =>
          w.records.push({ kind, ts: tsAt(at), offset: addr, block, pos: at, epoch: 0 });
        if (flags & 0x04) {
          let total = 0;
          while (total < addr) {
            idstr();
            total += Number(s.readBigUInt64BE(pos));
            pos += 8;
          }
          rec('MEM_SIZE');
        } else if (flags & 0x10) {
          rec('EOS');
          break;
        } else if (flags & 0x200) rec('FLUSH');
        else if (flags & 0x0a) {
          if (!(flags & 0x20)) block = idstr();
          if (flags & 0x02) {
            pos += 1;
            rec('ZERO');
          } else {
            pos += pageSize;
            rec('PAGE');
          }
        } else throw new Error(`statsWalk: RAM record flags 0x${flags.toString(16)} at ${at}`);
      }
      if (s[pos] === 0x7e) pos += 5; // section footer
    } else if (type === 0x08) {
      w.sections.push({ type, offset: pos });
      pos += 5 + s.readUInt16BE(pos + 3);
    } else if (type === 0x04) {
      // Device state from here on: find QEMU_VM_EOF as the byte before the VM description's marker (0x06).
      w.sections.push({ type, offset: pos });
      // (JSON holds no NUL byte, and its length is below 16 MiB.)
      w.eofOffset = s.lastIndexOf(Buffer.from([0x00, 0x06, 0x00]));
      if (w.eofOffset < 0) throw new Error('statsWalk: no QEMU_VM_EOF before the VM description');
      break;
    } else throw new Error(`statsWalk: section type ${type} at ${pos}`);
  }
  const marker = w.records.some((r) => r.kind === 'FLUSH') ? 'FLUSH' : 'EOS';
  let n = 0;
  for (const r of w.records) {
    r.epoch = n;
    if (r.kind === marker) n++;
  }
}
