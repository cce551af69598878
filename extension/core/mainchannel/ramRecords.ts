import { hexNum } from '../util/bytes';
import {
  compressBound,
  ENCODING_FLAG_XBZRLE,
  LIMITS,
  MAPPED_RAM_HEADER_VERSION,
  RAM_FLAG_MASK,
  RAM_SAVE_FLAG_COMPRESS_PAGE,
  RAM_SAVE_FLAG_CONTINUE,
  RAM_SAVE_FLAG_EOS,
  RAM_SAVE_FLAG_HOOK,
  RAM_SAVE_FLAG_MEM_SIZE,
  RAM_SAVE_FLAG_MULTIFD_FLUSH,
  RAM_SAVE_FLAG_PAGE,
  RAM_SAVE_FLAG_XBZRLE,
  RAM_SAVE_FLAG_ZERO,
  ramFlagNames,
} from './constants';
import { MainRecordKind, type MainRecordTable, type RamBlockInfo } from './recordTable';
import type { StreamWalker } from './streamWalker';
import type { Reporter } from './mainReporter';
import type { MainChannelIndex } from './mainChannelTypes';
import { fieldsOf, readU32, readU64 } from '../layout/fieldLayout';
import { MAPPED_RAM_HEADER_LAYOUT } from './layouts';

const MAPPED_RAM = fieldsOf(MAPPED_RAM_HEADER_LAYOUT, ['version', 'page_size', 'bitmap_offset', 'pages_offset']);

/** Reports one diagnostic at a stream offset; the caller adds stream id and file offset. */
export type { Reporter } from './mainReporter';

/** Decoder state that lives across RAM sections (QEMU keeps the last block across sections too). */
export interface RamState {
  readonly w: StreamWalker;
  readonly pageSize: number;
  readonly records: MainRecordTable;
  readonly ramblocks: RamBlockInfo[];
  readonly blockIndex: Map<string, number>;
  readonly report: Reporter;
  readonly maxRecords: number;
  /** Set from the configuration's capabilities and from commands seen before the RAM setup. */
  ignoreShared: boolean;
  mappedRam: boolean;
  postcopyAdvised: boolean;
  /**
   * A postcopy channel (the preempt channel): ram_load_postcopy accepts only ZERO, PAGE and EOS, and a channel
   * QEMU 8.0+ closes without an EOS may end between two records.
   */
  postcopyChannel: boolean;
  /** Stream offset of the record being read: where a truncation is reported. */
  recordAt: number;
  /** Index of the block of the previous ZERO/PAGE/… record: what CONTINUE refers to; -1 none. */
  lastBlock: number;
  /** Ordinal of the RAM section being decoded. */
  section: number;
  totalRam?: number;
  eosCount: number;
  flushCount: number;
  /** Kinds already reported as delimited-but-not-decoded, so that is said once per kind. */
  readonly noted: Set<MainRecordKind>;
}

export function newRamState(
  w: StreamWalker,
  pageSize: number,
  ix: Pick<MainChannelIndex, 'records' | 'ramblocks'>,
  report: Reporter,
  maxRecords: number,
): RamState {
  return {
    w,
    pageSize,
    records: ix.records,
    ramblocks: ix.ramblocks,
    blockIndex: new Map(),
    report,
    maxRecords,
    ignoreShared: false,
    mappedRam: false,
    postcopyAdvised: false,
    postcopyChannel: false,
    recordAt: 0,
    lastBlock: -1,
    section: 0,
    eosCount: 0,
    flushCount: 0,
    noted: new Set(),
  };
}

/** What the RAM sections leave in the index once the walk ends: total RAM, sync markers, epochs. */
export function finishRam(ix: MainChannelIndex, s: RamState): void {
  ix.totalRam = s.totalRam;
  if (ix.totalRam === undefined) delete ix.totalRam;
  ix.eosCount = s.eosCount;
  ix.flushCount = s.flushCount;
  // Any MULTIFD_FLUSH means an 8.1+ source in its default mode, where EOS does not sync.
  ix.syncMode = s.flushCount > 0 ? 'flush' : 'eos';
  ix.syncMarkers = ix.syncMode === 'flush' ? s.flushCount : s.eosCount;
  ix.records.assignEpochs(ix.syncMode === 'flush' ? MainRecordKind.Flush : MainRecordKind.Eos);
}

export type RamSectionResult = { ok: true } | { ok: false; at: number; reason: string };

/** 8-byte word + u8 length + 255-byte name + up to 4 bytes of payload header. */
const RECORD_HEAD = 8 + 1 + 255 + 4;
const MAPPED_RAM_INVALID =
  RAM_SAVE_FLAG_HOOK | RAM_SAVE_FLAG_MULTIFD_FLUSH | RAM_SAVE_FLAG_PAGE | RAM_SAVE_FLAG_XBZRLE | RAM_SAVE_FLAG_ZERO;
const TWO32 = 0x1_0000_0000;
const POSTCOPY_KINDS = new Set([RAM_SAVE_FLAG_ZERO, RAM_SAVE_FLAG_PAGE, RAM_SAVE_FLAG_EOS]);

/**
 * Decodes RAM records up to and including the EOS that ends every RAM section (ram_load_precopy's loop).
 * Diagnostics are reported here; a non-ok result says where and why decoding has to stop. StreamEnded
 * thrown by the walker propagates to the caller, which reports the truncation.
 */
export async function decodeRamSection(s: RamState): Promise<RamSectionResult> {
  const { w, pageSize, records } = s;
  const pageMask = pageSize - 1;
  for (;;) {
    const at = w.pos;
    s.recordAt = at;
    if (s.postcopyChannel && w.remaining === 0) return { ok: true };
    if (records.length >= s.maxRecords) {
      s.report('main.record-limit', `more than ${s.maxRecords} RAM records: the index stops here to bound memory`, at);
      return { ok: false, at, reason: 'record limit' };
    }
    // Word, name, and the largest fixed payload header (COMPRESS_PAGE's be32) in one go.
    if (!w.ready(RECORD_HEAD)) await w.fill(RECORD_HEAD);
    const hi = w.be32Sync();
    const lo = w.be32Sync();
    const low = lo & pageMask;
    const flags = low & RAM_FLAG_MASK;
    // Offsets are page aligned: the bits below the page size are flags, and those above 0x3ff are unused.
    const offset = hi * TWO32 + ((lo & ~pageMask) >>> 0);
    if (low & ~RAM_FLAG_MASK)
      return unknownFlags(s, at, low, 'bits above 0x3ff below the page size are not flags any QEMU defines');
    if (s.mappedRam && flags & MAPPED_RAM_INVALID)
      return unknownFlags(s, at, flags, 'not valid in a mapped-ram stream');
    const kindBits = flags & ~RAM_SAVE_FLAG_CONTINUE;
    if (s.postcopyChannel && !POSTCOPY_KINDS.has(kindBits))
      return unknownFlags(s, at, flags, 'ram_load_postcopy accepts only ZERO, PAGE and EOS (with CONTINUE)');
    switch (kindBits) {
      case RAM_SAVE_FLAG_MEM_SIZE: {
        records.push(MainRecordKind.MemSize, -1, offset, at, -1, s.section);
        const r = await readMemSizeList(s, offset);
        if (!r.ok) return r;
        break;
      }
      case RAM_SAVE_FLAG_ZERO:
      case RAM_SAVE_FLAG_PAGE:
      case RAM_SAVE_FLAG_XBZRLE:
      case RAM_SAVE_FLAG_COMPRESS_PAGE: {
        const block = blockFromStream(s, flags, at);
        const r = readPagePayload(s, kindBits, block, offset, at);
        if (!r.ok) return r;
        break;
      }
      case RAM_SAVE_FLAG_EOS:
        records.push(MainRecordKind.Eos, -1, 0, at, -1, s.section);
        s.eosCount++;
        return { ok: true };
      case RAM_SAVE_FLAG_MULTIFD_FLUSH:
        records.push(MainRecordKind.Flush, -1, 0, at, -1, s.section);
        s.flushCount++;
        break;
      case RAM_SAVE_FLAG_HOOK:
        // RDMA: the hook's data travels over RDMA, not in this stream, so nothing after it can be trusted.
        s.report(
          'main.unsupported-record',
          `RAM_SAVE_FLAG_HOOK (RDMA) record: not followed; decoding stops`,
          at,
          undefined,
          'error',
        );
        return { ok: false, at, reason: 'RDMA hook record' };
      default:
        return unknownFlags(s, at, flags, 'QEMU accepts exactly one record kind (plus CONTINUE)');
    }
  }
}

function unknownFlags(s: RamState, at: number, flags: number, why: string): RamSectionResult {
  s.report(
    'main.unknown-ram-flags',
    `RAM record flags ${hexNum(flags)} (${ramFlagNames(flags)}): ${why}; decoding stops`,
    at,
  );
  return { ok: false, at, reason: `unknown RAM flags ${hexNum(flags)}` };
}

/** ram_block_from_stream: a u8-length idstr unless CONTINUE, which reuses the previous record's block. */
function blockFromStream(s: RamState, flags: number, at: number): number {
  if (flags & RAM_SAVE_FLAG_CONTINUE) {
    if (s.lastBlock < 0) s.report('main.no-block', 'RAM_SAVE_FLAG_CONTINUE but no earlier record named a block', at);
    return s.lastBlock;
  }
  const name = s.w.name8Sync();
  let i = s.blockIndex.get(name);
  if (i === undefined) {
    s.report('main.unknown-ramblock', `RAM record names block "${name}", which MEM_SIZE did not announce`, at);
    i = addBlock(s, { name, usedLength: 0, unannounced: true });
  }
  s.lastBlock = i;
  return i;
}

function addBlock(s: RamState, b: RamBlockInfo): number {
  if (s.ramblocks.length >= LIMITS.maxRamBlocks) return -1;
  s.ramblocks.push(b);
  const i = s.ramblocks.length - 1;
  if (!s.blockIndex.has(b.name)) s.blockIndex.set(b.name, i);
  return i;
}

function readPagePayload(s: RamState, kindBits: number, block: number, offset: number, at: number): RamSectionResult {
  const { w, pageSize, records } = s;
  let kind: MainRecordKind;
  let dataPos = -1;
  let fill = 0;
  switch (kindBits) {
    case RAM_SAVE_FLAG_ZERO:
      kind = MainRecordKind.Zero;
      dataPos = w.pos;
      fill = w.u8Sync();
      break;
    case RAM_SAVE_FLAG_PAGE:
      kind = MainRecordKind.Page;
      dataPos = w.pos;
      w.skip(pageSize);
      break;
    case RAM_SAVE_FLAG_XBZRLE: {
      kind = MainRecordKind.Xbzrle;
      const hAt = w.pos;
      const encoding = w.u8Sync();
      const len = w.be16Sync();
      if (encoding !== ENCODING_FLAG_XBZRLE || len > pageSize) {
        s.report(
          'main.unsupported-record',
          `XBZRLE header (encoding ${encoding}, length ${len}) is one QEMU rejects; decoding stops`,
          hAt,
          undefined,
          'error',
        );
        return { ok: false, at: hAt, reason: 'bad XBZRLE header' };
      }
      w.skip(len);
      break;
    }
    default: {
      kind = MainRecordKind.CompressPage;
      const hAt = w.pos;
      const len = w.be32Sync();
      if (len > compressBound(pageSize)) {
        s.report(
          'main.unsupported-record',
          `COMPRESS_PAGE length ${len} is beyond compressBound(${pageSize}); decoding stops`,
          hAt,
          undefined,
          'error',
        );
        return { ok: false, at: hAt, reason: 'bad COMPRESS_PAGE length' };
      }
      w.skip(len);
      break;
    }
  }
  const rec = records.push(kind, block, offset, at, dataPos, s.section);
  const b = block >= 0 ? s.ramblocks[block] : undefined;
  if (b && !b.unannounced && offset >= b.usedLength)
    s.report(
      'main.offset-range',
      `offset ${hexNum(offset)} is beyond block "${b.name}" (used_length ${hexNum(b.usedLength)})`,
      at,
      rec,
    );
  if (kind === MainRecordKind.Zero && fill !== 0)
    s.report('main.zero-fill', `ZERO record with fill byte ${hexNum(fill)}`, at, rec);
  if ((kind === MainRecordKind.Xbzrle || kind === MainRecordKind.CompressPage) && !s.noted.has(kind)) {
    s.noted.add(kind);
    const name = kind === MainRecordKind.Xbzrle ? 'XBZRLE' : 'COMPRESS_PAGE';
    s.report(
      'main.unsupported-record',
      `${name} records are delimited and indexed, but their page data is not decoded`,
      at,
      rec,
      'info',
    );
  }
  return { ok: true };
}

/**
 * The MEM_SIZE block list: per block u8 length + idstr + be64 used_length, then the optional fields
 * ram_save_setup adds, until the lengths add up to the total.
 */
async function readMemSizeList(s: RamState, total: number): Promise<RamSectionResult> {
  const { w } = s;
  s.totalRam = total;
  let remaining = total;
  let duplicate = false;
  while (remaining > 0) {
    const blockAt = w.pos;
    if (s.ramblocks.length >= LIMITS.maxRamBlocks) {
      s.report(
        'main.mem-size-mismatch',
        `more than ${LIMITS.maxRamBlocks} blocks and ${hexNum(remaining)} bytes of the total still unaccounted for; decoding stops`,
        blockAt,
      );
      return { ok: false, at: blockAt, reason: 'too many RAM blocks' };
    }
    const name = await w.name8();
    const usedLength = await w.be64();
    const info: RamBlockInfo = { name, usedLength };
    if (s.postcopyAdvised) {
      // Sent only with postcopy-ram for blocks whose page size differs from the host's; the stream does
      // not say which. The next item is otherwise a name (first byte non-zero, so a huge value) or, after
      // the last block, a record word (EOS, FLUSH): neither is a power of two ≥ 1 KiB.
      const v = await w.peek64();
      if (v !== undefined && v >= 1024 && v <= 2 ** 40 && Number.isInteger(Math.log2(v))) {
        info.pageSize = v;
        await w.be64();
      }
    }
    if (s.ignoreShared) info.mrAddr = await w.be64();
    if (s.mappedRam) {
      const r = await readMappedRamHeader(s, info);
      if (!r.ok) return r;
    }
    if (usedLength > remaining) {
      s.report(
        'main.mem-size-mismatch',
        `block "${name}" (${hexNum(usedLength)} bytes) is larger than the ${hexNum(remaining)} bytes left of the MEM_SIZE total ${hexNum(total)}; decoding stops`,
        blockAt,
      );
      return { ok: false, at: blockAt, reason: 'MEM_SIZE lengths do not add up' };
    }
    remaining -= usedLength;
    if (s.blockIndex.has(name) && !duplicate) {
      duplicate = true;
      s.report(
        'main.mem-size-mismatch',
        `block "${name}" is announced twice (later duplicates not listed); records name the first`,
        blockAt,
        undefined,
        'warning',
      );
    }
    addBlock(s, info);
  }
  return { ok: true };
}

/**
 * mapped-ram (9.0+): a MappedRamHeader follows each block entry, and the stream continues after the
 * block's page region. Offsets in the header are file offsets; the bitmap starts right after the header,
 * which gives the difference between file and stream offsets (non-zero with `file:…,offset=N`).
 */
async function readMappedRamHeader(s: RamState, info: RamBlockInfo): Promise<RamSectionResult> {
  const { w } = s;
  const hAt = w.pos;
  const b = await w.bytes(MAPPED_RAM_HEADER_LAYOUT.fixedSize);
  const version = readU32(MAPPED_RAM.version, b);
  const pageSize = readU64(MAPPED_RAM.page_size, b);
  const bitmapOffset = readU64(MAPPED_RAM.bitmap_offset, b);
  const pagesOffset = readU64(MAPPED_RAM.pages_offset, b);
  if (version !== MAPPED_RAM_HEADER_VERSION) {
    s.report(
      'main.mapped-ram',
      `MappedRamHeader of block "${info.name}" has version ${version}; only ${MAPPED_RAM_HEADER_VERSION} exists; decoding stops`,
      hAt,
      undefined,
      'error',
    );
    return { ok: false, at: hAt, reason: 'bad mapped-ram header' };
  }
  // Ignored (shared) blocks have no regions.
  if (bitmapOffset === 0 && pagesOffset === 0) return { ok: true };
  const bias = bitmapOffset - w.pos;
  const pagesStream = pagesOffset - bias;
  const next = pagesStream + info.usedLength;
  if (bias < 0 || pagesStream < w.pos || !Number.isSafeInteger(next)) {
    s.report(
      'main.mapped-ram',
      `MappedRamHeader of block "${info.name}" has inconsistent offsets (bitmap ${hexNum(bitmapOffset)}, pages ${hexNum(pagesOffset)}); decoding stops`,
      hAt,
      undefined,
      'error',
    );
    return { ok: false, at: hAt, reason: 'bad mapped-ram header' };
  }
  info.mappedRam = { pageSize, bitmapOffset: w.pos, pagesOffset: pagesStream };
  if (next > w.length) {
    s.report(
      'main.truncated',
      `the page region of block "${info.name}" (up to ${next}) extends past the end of the stream (${w.length})`,
      hAt,
    );
    return { ok: false, at: hAt, reason: 'truncated' };
  }
  w.seek(next);
  return { ok: true };
}
