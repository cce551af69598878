import * as zlib from 'node:zlib';
import { MFD_FILE_HEADER_LENGTH, MFD_RECORD_HEADER_LENGTH } from '../../extension/core/capture/mfdFormat';
import { pageCount } from '../../extension/core/multifd/constants';
import { Rng } from './rng';
import { encodeModel, type SeedModel, type SeedStream } from './seedModel';

/** Names a capture could carry that must neither escape an output folder nor break a view. */
export const HOSTILE_NAMES = [
  '../../x',
  '..',
  '.',
  '/',
  '/etc/passwd',
  '/rom@etc/acpi/tables',
  'a/../../../tmp/escape',
  '<img src=x onerror=alert(1)>',
  '<script>alert(1)</script>',
  '"><svg onload=alert(1)>',
  'nul\u0000inside',
  'ctl\u0001\u001b[31m\r\n',
  '\\..\\..\\windows',
  'CON',
  'x'.repeat(255),
  '',
];

const u32Boundaries = (pc: number) => [0, 1, pc - 1, pc, pc + 1, 2 ** 31, 2 ** 32 - 1, 0x7fffffff, 0x10000];
const RAM_FIELDS: Record<string, number> = { pages_alloc: 12, normal_pages: 16, next_packet_size: 20, zero_pages: 32 };

let bombs: { zlib: Uint8Array; zstd: Uint8Array } | undefined;

/** A zlib payload inflating to 8 MiB of zeros, and a zstd frame of RLE blocks inflating to 64 MiB. */
export function bombPayloads(): { zlib: Uint8Array; zstd: Uint8Array } {
  if (bombs) return bombs;
  const z = zlib.deflateSync(new Uint8Array(8 << 20), { level: 9, finishFlush: zlib.constants.Z_SYNC_FLUSH });
  bombs = { zlib: new Uint8Array(z), zstd: zstdRleBomb(512) };
  return bombs;
}

/** A zstd frame (window 8 MiB, no content size) of `blocks` RLE blocks of 128 KiB each, none marked last. */
export function zstdRleBomb(blocks: number): Uint8Array {
  const out = new Uint8Array(5 + 4 * blocks);
  out.set([0x28, 0xb5, 0x2f, 0xfd, 0x00], 0);
  // Window_Descriptor is read after FHD; exponent 13 → 2^23.
  const withWindow = new Uint8Array(out.length + 1);
  withWindow.set(out.subarray(0, 5), 0);
  withWindow[5] = 13 << 3;
  for (let i = 0; i < blocks; i++) {
    const h = ((128 * 1024) << 3) | (1 << 1); // Block_Size << 3 | Block_Type RLE << 1 | Last_Block 0
    withWindow.set([h & 0xff, (h >>> 8) & 0xff, (h >>> 16) & 0xff, 0x00], 6 + 4 * i);
  }
  return withWindow.subarray(0, 6 + 4 * blocks);
}

function be32(b: Uint8Array, at: number, v: number): void {
  if (at + 4 > b.length) return;
  new DataView(b.buffer, b.byteOffset, b.byteLength).setUint32(at, v >>> 0);
}

function be64(b: Uint8Array, at: number, v: bigint): void {
  if (at + 8 > b.length) return;
  new DataView(b.buffer, b.byteOffset, b.byteLength).setBigUint64(at, BigInt.asUintN(64, v));
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function splice(b: Uint8Array, at: number, remove: number, insert: Uint8Array): Uint8Array {
  return concat(b.subarray(0, at), insert, b.subarray(Math.min(b.length, at + remove)));
}

function nameBytes(name: string, width: number, terminate: boolean): Uint8Array {
  const out = new Uint8Array(width);
  const enc = new TextEncoder().encode(name).subarray(0, terminate ? width - 1 : width);
  out.set(enc, 0);
  if (!terminate) out.fill(0x41, enc.length);
  return out;
}

interface Work {
  rng: Rng;
  m: SeedModel;
  streams: SeedStream[];
  log: string[];
}

type StreamMutator = (w: Work) => void;

function multifdStreams(w: Work): SeedStream[] {
  return w.streams.filter((s) => s.kind === 'multifd' && s.packets.length > 0);
}

function ramPacket(w: Work): { s: SeedStream; p: SeedStream['packets'][number] } | undefined {
  const ss = multifdStreams(w);
  if (!ss.length) return undefined;
  const s = w.rng.pick(ss);
  const ram = s.packets.filter((p) => p.kind === 'ram');
  if (!ram.length) return undefined;
  // Packets with pages are the interesting ones; pick them more often.
  const withPages = ram.filter((p) => p.normalPages > 0);
  return { s, p: withPages.length && w.rng.chance(0.7) ? w.rng.pick(withPages) : w.rng.pick(ram) };
}

/** Mutations done on stream bytes, aware of multifd packet boundaries from the seed's own decoding. */
const STREAM_MUTATORS: Record<string, StreamMutator> = {
  fieldBoundary(w) {
    const t = ramPacket(w);
    if (!t) return;
    const field = w.rng.pick(Object.keys(RAM_FIELDS));
    const pc = pageCount(w.m.pageSize);
    const v = w.rng.chance(0.85) ? w.rng.pick(u32Boundaries(pc)) : w.rng.u32();
    be32(t.s.bytes, t.p.header + RAM_FIELDS[field], v);
    w.log.push(`${field}=${v}@s${t.s.id}+${t.p.header}`);
  },
  flags(w) {
    const t = ramPacket(w);
    if (!t) return;
    const r = w.rng.int(5);
    const v =
      r === 0
        ? 1 << w.rng.int(32)
        : r === 1
          ? w.rng.u32()
          : r === 2
            ? (w.rng.pick([0, 1, 2, 4, 8, 16, 3, 31]) << 1) | w.rng.int(2)
            : r === 3
              ? 0x40 | w.rng.int(0x40)
              : 0xffffffff;
    be32(t.s.bytes, t.p.header + 8, v);
    w.log.push(`flags=0x${(v >>> 0).toString(16)}@s${t.s.id}+${t.p.header}`);
  },
  ramblockName(w) {
    const t = ramPacket(w);
    if (!t) return;
    const name = w.rng.pick([...HOSTILE_NAMES, ...w.m.ramblocks.map((b) => b.name)]);
    const terminate = w.rng.chance(0.8);
    t.s.bytes.set(nameBytes(name, 256, terminate), t.p.header + 64);
    w.log.push(`ramblock=${JSON.stringify(name)}${terminate ? '' : ' unterminated'}`);
  },
  offsets(w) {
    const t = ramPacket(w);
    if (!t) return;
    const ps = BigInt(w.m.pageSize);
    const used = BigInt(w.m.ramblocks.length ? w.rng.pick(w.m.ramblocks).usedLength : 1 << 20);
    const count = Math.max(1, Math.min(t.p.normalPages || 4, 16));
    for (let k = 0; k < 1 + w.rng.int(3); k++) {
      const i = w.rng.chance(0.7) ? w.rng.int(count) : w.rng.int(pageCount(w.m.pageSize));
      const v = w.rng.pick([
        used,
        used - ps,
        used + ps,
        used - ps + 1n,
        1n,
        ps / 2n,
        2n ** 63n,
        2n ** 64n - 1n,
        2n ** 53n,
        2n ** 32n,
        BigInt(w.rng.u32()),
      ]);
      be64(t.s.bytes, t.p.header + 320 + 8 * i, v);
      w.log.push(`offset[${i}]=${v}`);
    }
  },
  splicePacket(w) {
    const ss = multifdStreams(w);
    if (!ss.length) return;
    const from = w.rng.pick(ss);
    const to = w.rng.pick(ss);
    const p = w.rng.pick(from.packets);
    const bytes = from.bytes.slice(p.header, p.header + p.headerLength + p.payloadLength);
    const q = w.rng.pick(to.packets);
    const at = w.rng.chance(0.5) ? q.header : Math.min(to.bytes.length, q.header + q.headerLength + q.payloadLength);
    const op = w.rng.int(3);
    if (op === 2 && to === from) {
      to.bytes = splice(to.bytes, p.header, bytes.length, new Uint8Array(0));
      w.log.push(`delete packet s${to.id}+${p.header}`);
    } else {
      to.bytes = splice(to.bytes, at, 0, bytes);
      w.log.push(`${from === to ? 'duplicate' : 'splice'} packet s${from.id}+${p.header} → s${to.id}+${at}`);
    }
    to.packets = []; // boundaries are stale now
  },
  corruptPayload(w) {
    const ss = multifdStreams(w).filter((s) => s.packets.some((p) => p.payloadLength > 0));
    if (!ss.length) return;
    const s = w.rng.pick(ss);
    const p = w.rng.pick(s.packets.filter((x) => x.payloadLength > 0));
    const start = p.header + p.headerLength;
    const n = 1 + w.rng.int(8);
    for (let k = 0; k < n; k++) {
      const at = start + Math.floor(p.payloadLength / 4) + w.rng.int(Math.max(1, Math.floor(p.payloadLength / 2)));
      if (at < s.bytes.length) s.bytes[at] = w.rng.chance(0.5) ? s.bytes[at] ^ (1 << w.rng.int(8)) : w.rng.int(256);
    }
    w.log.push(`corrupt payload s${s.id}+${start} ×${n}`);
  },
  bomb(w) {
    const ss = multifdStreams(w).filter((s) => s.packets.some((p) => p.kind === 'ram' && p.normalPages > 0));
    if (!ss.length) return;
    const s = w.rng.pick(ss);
    const p = s.packets.find((x) => x.kind === 'ram' && x.normalPages > 0)!;
    const b = bombPayloads();
    const payload = s.method === 'zstd' ? b.zstd : s.method === 'zlib' ? b.zlib : w.rng.pick([b.zlib, b.zstd]);
    const header = s.bytes.slice(p.header, p.header + p.headerLength);
    be32(header, 20, payload.length);
    if (w.rng.chance(0.3)) be32(header, 16, w.rng.pick([1, pageCount(w.m.pageSize), 2 ** 32 - 1]));
    s.bytes = concat(
      s.bytes.subarray(0, p.header),
      header,
      payload,
      s.bytes.subarray(p.header + p.headerLength + p.payloadLength),
    );
    s.packets = [];
    w.log.push(`bomb (${s.method}) s${s.id}+${p.header}`);
  },
  deviceState(w) {
    const ss = multifdStreams(w);
    if (!ss.length) return;
    const s = w.rng.pick(ss);
    const name = w.rng.pick(HOSTILE_NAMES);
    const h = new Uint8Array(276);
    be32(h, 0, 0x11223344);
    be32(h, 4, 1);
    be32(h, 8, w.rng.chance(0.8) ? 0x40 : 0x40 | w.rng.u32());
    h.set(nameBytes(name, 256, w.rng.chance(0.8)), 12);
    be32(h, 268, w.rng.chance(0.7) ? w.rng.int(4) : w.rng.u32());
    const blob = new Uint8Array(w.rng.int(64));
    const nps = w.rng.chance(0.8) ? blob.length : w.rng.pick([0, 2 ** 32 - 1, 2 ** 31, blob.length + 1]);
    be32(h, 272, nps);
    const p = w.rng.pick(s.packets);
    s.bytes = splice(s.bytes, p.header, 0, concat(h, blob));
    s.packets = [];
    w.log.push(`device-state ${JSON.stringify(name)} nps=${nps} s${s.id}+${p.header}`);
  },
  dropMain(w) {
    const before = w.streams.length;
    w.streams = w.streams.filter((s) => s.kind !== 'main');
    if (w.streams.length !== before) w.log.push('drop main channel');
  },
  mainBytes(w) {
    const mains = w.streams.filter((s) => s.kind === 'main' && s.bytes.length > 0);
    if (!mains.length) return;
    const s = w.rng.pick(mains);
    // Early bytes (header, configuration, MEM_SIZE, first RAM records) matter most.
    const span = w.rng.chance(0.7) ? Math.min(s.bytes.length, 2048) : s.bytes.length;
    const at = w.rng.int(span);
    const r = w.rng.int(4);
    if (r === 0) s.bytes[at] ^= 1 << w.rng.int(8);
    else if (r === 1) s.bytes[at] = w.rng.pick([0, 1, 0x7f, 0x80, 0xff, w.rng.int(256)]);
    else if (r === 2) be32(s.bytes, at, w.rng.pick([0, 1, 2 ** 31, 2 ** 32 - 1, w.rng.u32()]));
    else be64(s.bytes, at, w.rng.pick([0n, 2n ** 63n, 2n ** 64n - 1n, 2n ** 40n, BigInt(w.rng.u32())]));
    w.log.push(`main byte ${r} @${at}`);
  },
  mainName(w) {
    const mains = w.streams.filter((s) => s.kind === 'main');
    if (!mains.length || !w.m.ramblocks.length) return;
    const s = w.rng.pick(mains);
    const b = w.rng.pick(w.m.ramblocks);
    const enc = new TextEncoder().encode(b.name);
    for (let i = 1; i + enc.length <= s.bytes.length; i++) {
      if (s.bytes[i - 1] !== enc.length || s.bytes[i] !== enc[0]) continue;
      if (!enc.every((x, k) => s.bytes[i + k] === x)) continue;
      const name = new TextEncoder().encode(w.rng.pick(HOSTILE_NAMES)).subarray(0, 255);
      s.bytes = splice(s.bytes, i - 1, enc.length + 1, concat(Uint8Array.of(name.length), name));
      w.log.push(`main name ${b.name} → ${JSON.stringify(new TextDecoder().decode(name))}`);
      return;
    }
  },
  memSize(w) {
    // MEM_SIZE entries are name8 + be64 used_length: find a known name and set its length to a boundary.
    const mains = w.streams.filter((s) => s.kind === 'main');
    if (!mains.length || !w.m.ramblocks.length) return;
    const s = w.rng.pick(mains);
    const b = w.rng.pick(w.m.ramblocks);
    const enc = new TextEncoder().encode(b.name);
    for (let i = 1; i + enc.length + 8 <= s.bytes.length; i++) {
      if (s.bytes[i - 1] !== enc.length || !enc.every((x, k) => s.bytes[i + k] === x)) continue;
      const v = w.rng.pick([
        0n,
        1n,
        4095n,
        2n ** 32n,
        2n ** 40n,
        2n ** 50n,
        2n ** 53n + 1n,
        2n ** 62n,
        2n ** 64n - 1n,
        BigInt(b.usedLength) * 2n,
        BigInt(b.usedLength) + 1n,
      ]);
      be64(s.bytes, i + enc.length, v);
      w.log.push(`MEM_SIZE ${b.name}=${v}`);
      return;
    }
  },
  truncateStream(w) {
    const s = w.rng.pick(w.streams);
    if (!s) return;
    const cut = w.rng.int(s.bytes.length + 1);
    s.bytes = s.bytes.slice(0, cut);
    s.packets = s.packets.filter((p) => p.header + p.headerLength + p.payloadLength <= cut);
    w.log.push(`cut s${s.id} at ${cut}`);
  },
  meta(w) {
    const m = { ...w.m.meta, parameters: { ...((w.m.meta.parameters as Record<string, unknown>) ?? {}) } } as Record<
      string,
      unknown
    >;
    const p = m.parameters as Record<string, unknown>;
    const r = w.rng.int(4);
    if (r === 0) m.pageSize = w.rng.pick([0, -1, 3, 512, 1 << 16, 1 << 20, 2 ** 31, 'x', null, 1.5]);
    else if (r === 1) p['multifd-compression'] = w.rng.pick(['none', 'zlib', 'zstd', 'qpl', 'bogus', 7]);
    else if (r === 2) p['multifd-channels'] = w.rng.pick([0, 1, 255, 2 ** 31, -3, 'x']);
    else p['zero-page-detection'] = w.rng.pick(['none', 'legacy', 'multifd', 42]);
    w.m = { ...w.m, meta: m };
    w.log.push(`meta ${r}`);
  },
};

interface Record_ {
  at: number;
  len: number;
}

function records(file: Uint8Array): Record_[] {
  const out: Record_[] = [];
  let pos = MFD_FILE_HEADER_LENGTH;
  while (pos + MFD_RECORD_HEADER_LENGTH <= file.length) {
    const len = new DataView(file.buffer, file.byteOffset + pos + 4, 4).getUint32(0, true);
    const total = MFD_RECORD_HEADER_LENGTH + len;
    if (pos + total > file.length) break;
    out.push({ at: pos, len: total });
    pos += total;
  }
  return out;
}

type FileMutator = (f: Uint8Array, rng: Rng, log: string[]) => Uint8Array;

/** Mutations of the `.mfd` container itself and of raw bytes anywhere. */
const FILE_MUTATORS: Record<string, FileMutator> = {
  bitFlips(f, rng, log) {
    const out = f.slice();
    const n = 1 + rng.int(8);
    for (let k = 0; k < n; k++) out[rng.int(out.length)] ^= 1 << rng.int(8);
    log.push(`bit flips ×${n}`);
    return out;
  },
  byteOverwrite(f, rng, log) {
    const out = f.slice();
    const n = 1 + rng.int(8);
    for (let k = 0; k < n; k++) {
      const at = rng.int(out.length);
      const w = rng.pick([1, 2, 4, 8]);
      for (let i = 0; i < w && at + i < out.length; i++)
        out[at + i] = rng.chance(0.5) ? rng.pick([0, 0xff, 0x7f, 0x80]) : rng.int(256);
    }
    log.push(`byte overwrites ×${n}`);
    return out;
  },
  reorderRecords(f, rng, log) {
    const rs = records(f);
    if (rs.length < 2) return f;
    const i = rng.int(rs.length);
    const j = rng.int(rs.length);
    const order = rs.map((_, k) => k);
    [order[i], order[j]] = [order[j], order[i]];
    log.push(`swap records ${i} ${j}`);
    return concat(
      f.subarray(0, MFD_FILE_HEADER_LENGTH),
      ...order.map((k) => f.subarray(rs[k].at, rs[k].at + rs[k].len)),
    );
  },
  duplicateRecord(f, rng, log) {
    const rs = records(f);
    if (!rs.length) return f;
    const r = rng.pick(rs);
    const at = rng.pick(rs).at;
    log.push(`duplicate record @${r.at} → @${at}`);
    return splice(f, at, 0, f.slice(r.at, r.at + r.len));
  },
  truncateFile(f, rng, log) {
    const cut = rng.int(f.length);
    log.push(`truncate file at ${cut}`);
    return f.slice(0, cut);
  },
  recordLength(f, rng, log) {
    const rs = records(f);
    if (!rs.length) return f;
    const r = rng.pick(rs);
    const out = f.slice();
    const v = rng.pick([0, 1, 0xffffffff, 0x80000000, f.length, f.length - r.at, rng.u32()]);
    new DataView(out.buffer).setUint32(r.at + 4, v >>> 0, true);
    log.push(`record @${r.at} length=${v >>> 0}`);
    return out;
  },
  recordHeader(f, rng, log) {
    const rs = records(f);
    if (!rs.length) return f;
    const r = rng.pick(rs);
    const out = f.slice();
    const which = rng.int(3);
    if (which === 0) out[r.at] = rng.pick([0, 1, 2, 3, 4, 5, 6, 255]);
    else if (which === 1) out[r.at + 1] = rng.int(256);
    else new DataView(out.buffer).setUint16(r.at + 2, rng.pick([0, 1, 2, 3, 0xffff]), true);
    log.push(`record @${r.at} header field ${which}`);
    return out;
  },
};

export const MUTATOR_NAMES = [...Object.keys(STREAM_MUTATORS), ...Object.keys(FILE_MUTATORS), 'splitData'];

/** One fuzzing input: 1–3 stacked mutations of a seed, fully determined by `seed`. */
export function mutate(m: SeedModel, seed: number): { bytes: Uint8Array; description: string } {
  const rng = new Rng(seed);
  const w: Work = {
    rng,
    m,
    streams: m.streams.map((s) => ({ ...s, bytes: s.bytes.slice(), packets: s.packets.slice() })),
    log: [],
  };
  const streamOps = Object.keys(STREAM_MUTATORS);
  const fileOps = Object.keys(FILE_MUTATORS);
  const n = 1 + rng.int(3);
  const fileSteps: string[] = [];
  let split = false;
  for (let k = 0; k < n; k++) {
    // Structured mutations most of the time; raw container damage for the rest.
    const r = rng.int(10);
    if (r < 7) STREAM_MUTATORS[rng.pick(streamOps)](w);
    else if (r < 9) fileSteps.push(rng.pick(fileOps));
    else split = true;
  }
  const splitter = split
    ? (len: number) => Array.from({ length: 1 + rng.int(6) }, () => rng.int(Math.max(1, len)))
    : undefined;
  if (split) w.log.push('split DATA records');
  let bytes = encodeModel({ meta: w.m.meta, notes: w.m.notes, streams: w.streams }, splitter);
  for (const op of fileSteps) bytes = FILE_MUTATORS[op](bytes, rng, w.log);
  return { bytes, description: `${m.name}: ${w.log.join('; ') || 'unchanged'}` };
}
