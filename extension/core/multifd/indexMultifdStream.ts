import type { StreamBytes } from '../capture/streamBytes';
import { streamCursor } from '../capture/streamBytes';
import type { DiagnosticSink, DiagnosticLocation, Severity } from '../diagnostics/diagnostic';
import { DIAGNOSTIC_CODES, type DiagnosticCode } from '../diagnostics/codes';
import { be32, be64, cString, hex, hexNum } from '../util/bytes';
import type { StringTable } from '../util/growableArrays';
import {
  DEVICE_STATE_HEADER_SIZE,
  FLAG_DEVICE_STATE,
  FLAG_SYNC,
  KNOWN_FLAG_BITS,
  METHOD_BY_VALUE,
  MULTIFD_INIT_SIZE,
  MULTIFD_MAGIC,
  MULTIFD_VERSION,
  methodOf,
  methodFlags,
  methodValue,
  pageCount,
  ramPacketLength,
  type CompressionMethod,
} from './constants';
import { DEVICE_STATE_LAYOUT, MULTIFD_INIT_LAYOUT, RAM_PACKET_LAYOUT } from './layouts';
import { fieldMap, readField } from '../layout/fieldLayout';
import { PacketTable, type RowSeverity } from './packetTable';
import { HINTS, type VersionHint } from './versionHints';

const INIT = fieldMap(MULTIFD_INIT_LAYOUT);
const RAM = fieldMap(RAM_PACKET_LAYOUT);
const DEV = fieldMap(DEVICE_STATE_LAYOUT);
const u32 = (f: (typeof RAM)[string], b: Uint8Array) => readField(f, b) as number;

export interface MultifdHandshake {
  magic: number;
  version: number;
  uuid: string;
  channelId: number;
}

export interface MultifdStreamIndex {
  streamId: number;
  handshake?: MultifdHandshake;
  pageSize: number;
  packetLength: number;
  packets: PacketTable;
  /** Source → destination bytes in the stream. */
  bytes: number;
  /** Where decoding stopped: equals `bytes` when the stream decoded to its end. */
  decodedBytes: number;
  complete: boolean;
  /** The channel's compression method (from the capture's parameters, else its first packet with pages). */
  method?: CompressionMethod;
  syncPackets: number;
  normalPages: number;
  zeroPages: number;
  deviceStatePackets: number;
  payloadBytes: number;
  methodsSeen: Set<CompressionMethod>;
  ramblocksSeen: Set<string>;
  hints: VersionHint[];
}

export interface MultifdIndexContext {
  pageSize: number;
  /** ramblock name → used_length, from the main channel's MEM_SIZE; undefined when there is no main channel. */
  ramblocks?: Map<string, number>;
  /** multifd-compression from the capture's META parameters, when recorded. */
  expectedMethod?: CompressionMethod;
  names: StringTable;
  sink: DiagnosticSink;
}

const SEVERITY_RANK: Record<Severity, RowSeverity> = { info: 1, warning: 2, error: 3 };

/**
 * Walks one multifd stream in O(packets): the 64-byte MultiFDInit_t, then each packet header, skipping
 * payloads by their length exactly as QEMU's receiver frames them. It never decompresses. Every check
 * QEMU's receiver makes is raised as a diagnostic with QEMU's meaning; decoding stops where QEMU's
 * destination would have lost the framing.
 */
export async function indexMultifdStream(stream: StreamBytes, streamId: number, ctx: MultifdIndexContext): Promise<MultifdStreamIndex> {
  const { pageSize, sink } = ctx;
  const packetLength = ramPacketLength(pageSize);
  const maxPages = pageCount(pageSize);
  const packets = new PacketTable(streamId, ctx.names);
  const cursor = streamCursor(stream);
  const idx: MultifdStreamIndex = {
    streamId,
    pageSize,
    packetLength,
    packets,
    bytes: stream.length,
    decodedBytes: 0,
    complete: false,
    method: ctx.expectedMethod,
    syncPackets: 0,
    normalPages: 0,
    zeroPages: 0,
    deviceStatePackets: 0,
    payloadBytes: 0,
    methodsSeen: new Set(),
    ramblocksSeen: new Set(),
    hints: [],
  };
  const hint = (h: VersionHint) => {
    if (!idx.hints.includes(h)) idx.hints.push(h);
  };
  const at = (streamOffset: number, packet?: number): DiagnosticLocation => ({ stream: streamId, packet, streamOffset, fileOffset: stream.fileOffsetOf(streamOffset) });
  const report = (code: DiagnosticCode, message: string, loc: DiagnosticLocation, severity?: Severity) => {
    sink.report(code, message, loc, severity ? { severity } : undefined);
    if (loc.packet !== undefined) packets.mark(loc.packet, SEVERITY_RANK[severity ?? sinkSeverity(code)]);
  };

  // MultiFDInit_t
  const init = await cursor.bytes(0, MULTIFD_INIT_SIZE);
  if (init.length < MULTIFD_INIT_SIZE) {
    report('multifd.init.truncated', `the stream ends after ${init.length} of the 64 handshake bytes (MultiFDInit_t)`, at(init.length));
    idx.decodedBytes = 0;
    return idx;
  }
  const hs: MultifdHandshake = {
    magic: readField(INIT.magic, init) as number,
    version: readField(INIT.version, init) as number,
    uuid: readField(INIT.uuid, init) as string,
    channelId: readField(INIT.id, init) as number,
  };
  idx.handshake = hs;
  if (hs.magic !== MULTIFD_MAGIC) {
    report('multifd.init.bad-magic', `multifd: received packet magic ${hexNum(hs.magic)} expected ${hexNum(MULTIFD_MAGIC)} (handshake)`, at(0));
    return idx;
  }
  if (hs.version !== MULTIFD_VERSION) {
    report('multifd.init.bad-version', `multifd: received packet version ${hs.version} expected ${MULTIFD_VERSION} (handshake)`, at(4));
    return idx;
  }

  let pos = MULTIFD_INIT_SIZE;
  let epoch = 0;
  let stalePayloads = 0;
  let firstStale = -1;
  let previousWasPagesWithSync = false;
  while (pos < stream.length) {
    const index = packets.length;
    const hdr = await cursor.bytes(pos, Math.max(packetLength, DEVICE_STATE_HEADER_SIZE));
    if (hdr.length < 12) {
      report('multifd.truncated-header', `the stream ends ${hdr.length} bytes into a packet header (MultiFDPacketHdr_t needs 12)`, at(pos));
      break;
    }
    const magic = be32(hdr, 0);
    const version = be32(hdr, 4);
    const flags = be32(hdr, 8);
    if (magic !== MULTIFD_MAGIC) {
      report('multifd.bad-magic', `multifd: received packet magic ${hexNum(magic)}, expected ${hexNum(MULTIFD_MAGIC)}; bytes here: ${hex(hdr.subarray(0, 16))}. Framing is lost: decoding of this stream stops`, at(pos));
      break;
    }
    if (version !== MULTIFD_VERSION) {
      report('multifd.bad-version', `multifd: received packet version ${version}, expected ${MULTIFD_VERSION}. Decoding of this stream stops`, at(pos + 4));
      break;
    }

    if (flags & FLAG_DEVICE_STATE) {
      if (hdr.length < DEVICE_STATE_HEADER_SIZE) {
        report('multifd.truncated-header', `the stream ends ${hdr.length} bytes into a device-state header (276 bytes)`, at(pos));
        break;
      }
      const idstr = cString(hdr, DEV.idstr.offset, DEV.idstr.width);
      const nps = readField(DEV.next_packet_size, hdr) as number;
      const row = packets.push({
        headerOffset: pos,
        headerLength: DEVICE_STATE_HEADER_SIZE,
        payloadLength: nps,
        flags,
        pagesAlloc: 0,
        normalPages: 0,
        zeroPages: 0,
        nextPacketSize: nps,
        packetNum: -1,
        ramblock: idstr.text,
        instanceId: readField(DEV.instance_id, hdr) as number,
        epoch,
        timestampNs: stream.timestampOf(pos),
      });
      idx.deviceStatePackets++;
      hint(HINTS.deviceState);
      if (hdr[DEV.idstr.offset + DEV.idstr.width - 1] !== 0) report('multifd.device-state.unterminated', 'unterminated multifd device state idstr (byte 267 is not NUL)', at(pos + 267, row));
      if (nps === 0) report('multifd.device-state.empty', 'multifd: received empty device state packet', at(pos + 272, row));
      if (flags & FLAG_SYNC) report('multifd.device-state.sync', 'multifd: received SYNC device state packet', at(pos + 8, row));
      const end = pos + DEVICE_STATE_HEADER_SIZE + nps;
      if (end > stream.length) {
        report('multifd.truncated-payload', `the stream ends ${stream.length - pos - DEVICE_STATE_HEADER_SIZE} bytes into a ${nps}-byte device-state blob`, at(pos + DEVICE_STATE_HEADER_SIZE, row));
        pos = stream.length;
        idx.decodedBytes = pos;
        return idx;
      }
      idx.payloadBytes += nps;
      pos = end;
      continue;
    }

    if (hdr.length < packetLength) {
      report('multifd.truncated-header', `the stream ends ${hdr.length} bytes into a ${packetLength}-byte packet header (page size ${pageSize})`, at(pos));
      break;
    }
    const pagesAlloc = u32(RAM.pages_alloc, hdr);
    const normal = u32(RAM.normal_pages, hdr);
    const zero = u32(RAM.zero_pages, hdr);
    const nps = u32(RAM.next_packet_size, hdr);
    const packetNum = be64(hdr, RAM.packet_num.offset);
    const sync = (flags & FLAG_SYNC) !== 0;
    const method = methodOf(flags);
    const hasPages = normal > 0 || zero > 0;
    const block = cString(hdr, RAM.ramblock.offset, RAM.ramblock.width);
    // QEMU frames by normal_pages alone: no payload is read for a packet without normal pages, whatever
    // next_packet_size says; nocomp reads normal_pages × page_size and ignores next_packet_size.
    const usedNormal = Math.min(normal, maxPages);
    const payloadLength = normal === 0 ? 0 : method === 'none' ? usedNormal * pageSize : nps;
    const row = packets.push({
      headerOffset: pos,
      headerLength: packetLength,
      payloadLength,
      flags,
      pagesAlloc,
      normalPages: normal,
      zeroPages: zero,
      nextPacketSize: nps,
      packetNum,
      ramblock: hasPages ? block.text : '',
      instanceId: 0,
      epoch,
      timestampNs: stream.timestampOf(pos),
    });
    const here = (field: keyof typeof RAM | number) => at(pos + (typeof field === 'number' ? field : RAM[field].offset), row);

    if (flags & ~KNOWN_FLAG_BITS) report('multifd.unknown-flags', `flags ${hexNum(flags)} has bits no QEMU release defines (${hexNum(flags & ~KNOWN_FLAG_BITS)})`, here('flags'));
    if (METHOD_BY_VALUE[methodValue(flags)] === undefined) report('multifd.unknown-method', `compression field ${methodValue(flags)} (flags ${hexNum(flags)}) names no method`, here('flags'));
    if (pagesAlloc > maxPages) report('multifd.pages-alloc', `multifd: received packet with ${pagesAlloc} pages, expected ${maxPages} (page size ${pageSize})`, here('pages_alloc'));
    if (normal > pagesAlloc) report('multifd.normal-pages', `multifd: received packet with ${normal} non-zero pages, which exceeds maximum expected pages ${pagesAlloc}`, here('normal_pages'));
    else if (zero > pagesAlloc - normal) report('multifd.zero-pages', `multifd: received packet with ${zero} zero pages and expected maximum zero pages are ${pagesAlloc - normal}`, here('zero_pages'));

    if (hasPages) {
      if (method) {
        idx.methodsSeen.add(method);
        if (idx.method === undefined) idx.method = method;
        else if (method !== idx.method) report('multifd.compression-mismatch', `multifd ${hs.channelId}: flags received ${hexNum(flags & 0x3e)} flags expected ${hexNum(methodFlags(idx.method))} (${method} vs the channel's ${idx.method})`, here('flags'));
      }
      idx.ramblocksSeen.add(block.text);
      if (!block.terminated) report('multifd.ramblock-unterminated', `ramblock name has no NUL in 256 bytes; QEMU forces byte 255 to NUL and looks up "${block.text.slice(0, 255)}"`, here('ramblock'));
      checkOffsets(hdr, Math.min(normal + zero, maxPages, Math.max(0, pagesAlloc)), block.text.slice(0, 255));
      if (zero > 0) hint(HINTS.zeroPages);
      if (normal === 0 && zero > 0 && method !== undefined && method !== 'none') hint(HINTS.zeroOnlyCompressed);
      if (sync) hint(HINTS.pagesWithSync);
      if (method === 'none' && normal > 0 && nps !== normal * pageSize) report('multifd.nocomp-size', `nocomp packet: next_packet_size ${nps} but normal_pages × page_size = ${normal * pageSize} (QEMU reads the latter)`, here('next_packet_size'));
      if (method === 'qpl') hint(HINTS.qpl);
      if (method === 'uadk') hint(HINTS.uadk);
      if (method === 'qatzip') hint(HINTS.qatzip);
    } else {
      if (nps !== 0) {
        stalePayloads++;
        if (firstStale < 0) firstStale = row;
      }
      if (sync && pagesAlloc === 0) hint(HINTS.cleanSync);
      if (!sync && previousWasPagesWithSync) hint(HINTS.emptyTrailer);
    }
    previousWasPagesWithSync = sync && hasPages;
    idx.normalPages += normal;
    idx.zeroPages += zero;
    if (sync) {
      idx.syncPackets++;
      epoch++;
    }
    const end = pos + packetLength + payloadLength;
    if (end > stream.length) {
      report('multifd.truncated-payload', `the stream ends ${stream.length - pos - packetLength} bytes into a ${payloadLength}-byte payload`, at(pos + packetLength, row));
      idx.decodedBytes = stream.length;
      finishStale();
      return idx;
    }
    idx.payloadBytes += payloadLength;
    pos = end;
  }
  idx.decodedBytes = pos;
  idx.complete = pos === stream.length;
  finishStale();
  return idx;

  function finishStale(): void {
    if (stalePayloads > 0) {
      hint(HINTS.staleNextPacketSize);
      report(
        'multifd.payload-without-pages',
        `${stalePayloads} packet(s) without normal pages carry a non-zero next_packet_size (first: packet ${firstStale}); QEMU reads no payload for them, nor does this decoder`,
        at(packets.headerOffset.get(firstStale), firstStale),
      );
    }
  }

  function checkOffsets(hdr: Uint8Array, used: number, name: string): void {
    const row = packets.length - 1;
    const usedLength = ctx.ramblocks?.get(name);
    if (ctx.ramblocks && usedLength === undefined) {
      report('multifd.unknown-ramblock', `multifd: unknown ram block ${name}`, at(pos + RAM.ramblock.offset, row));
      return;
    }
    let unaligned = 0;
    let outOfRange = 0;
    for (let i = 0; i < used; i++) {
      const off = be64(hdr, RAM_PACKET_LAYOUT.array!.offset + 8 * i);
      if (usedLength !== undefined && off > usedLength - pageSize) {
        if (outOfRange++ === 0) report('multifd.offset-range', `multifd: offset too long ${off} (max ${usedLength - pageSize}) in ramblock ${name}, offset[${i}]`, at(pos + 320 + 8 * i, row));
      } else if (off % pageSize !== 0 && unaligned++ === 0) {
        report('multifd.offset-unaligned', `offset[${i}] = ${hexNum(off)} is not a multiple of the page size ${pageSize}`, at(pos + 320 + 8 * i, row));
      }
    }
  }
}

function sinkSeverity(code: DiagnosticCode): Severity {
  return DIAGNOSTIC_CODES[code].severity;
}
