import type { StreamBytes } from '../capture/streamBytes';
import { streamCursor } from '../capture/streamBytes';
import type { DiagnosticSink, DiagnosticLocation, Severity } from '../diagnostics/diagnostic';
import { DIAGNOSTIC_CODES, type DiagnosticCode } from '../diagnostics/codes';
import { hex, hexNum } from '../util/bytes';
import type { StringTable } from '../util/growableArrays';
import {
  DEVICE_STATE_HEADER_SIZE,
  FLAG_SYNC,
  MULTIFD_INIT_SIZE,
  MULTIFD_MAGIC,
  MULTIFD_PACKET_HDR_SIZE,
  MULTIFD_VERSION,
  methodOf,
  methodFlags,
  ramPacketLength,
  type CompressionMethod,
} from './constants';
import { isDeviceState, offsetCapacity, payloadLengthOf } from './framing';
import {
  checkDeviceStateHeader,
  checkFlags,
  checkNocompSize,
  checkOffsets,
  checkPacketStart,
  checkPageCounts,
  checkRamblockName,
  type HeaderProblem,
} from './packetChecks';
import {
  INIT_FIELDS,
  RAM_FIELDS,
  type MultifdInit,
  readDeviceStateHeader,
  readMultifdInit,
  readPacketHdr,
  readRamPacketHeader,
} from './packetHeaders';
import { PacketTable, type RowSeverity } from './packetTable';
import { HINTS, type VersionHint } from './versionHints';

export type MultifdHandshake = MultifdInit;

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
  /** The same names as QEMU looks them up (cut at byte 255). */
  ramblockLookups: Set<string>;
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
export async function indexMultifdStream(
  stream: StreamBytes,
  streamId: number,
  ctx: MultifdIndexContext,
): Promise<MultifdStreamIndex> {
  const { pageSize, sink } = ctx;
  const packetLength = ramPacketLength(pageSize);
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
    ramblockLookups: new Set(),
    hints: [],
  };
  const hint = (h: VersionHint) => {
    if (!idx.hints.includes(h)) idx.hints.push(h);
  };
  const at = (streamOffset: number, packet?: number): DiagnosticLocation => ({
    stream: streamId,
    packet,
    streamOffset,
    fileOffset: stream.fileOffsetOf(streamOffset),
  });
  const report = (code: DiagnosticCode, message: string, loc: DiagnosticLocation, severity?: Severity) => {
    sink.report(code, message, loc, severity ? { severity } : undefined);
    if (loc.packet !== undefined) packets.mark(loc.packet, SEVERITY_RANK[severity ?? sinkSeverity(code)]);
  };

  // MultiFDInit_t
  const init = await cursor.bytes(0, MULTIFD_INIT_SIZE);
  if (init.length < MULTIFD_INIT_SIZE) {
    report(
      'multifd.init.truncated',
      `the stream ends after ${init.length} of the ${MULTIFD_INIT_SIZE} handshake bytes (MultiFDInit_t)`,
      at(init.length),
    );
    idx.decodedBytes = 0;
    return idx;
  }
  const hs = readMultifdInit(init);
  idx.handshake = hs;
  if (hs.magic !== MULTIFD_MAGIC) {
    report(
      'multifd.init.bad-magic',
      `multifd: received packet magic ${hexNum(hs.magic)} expected ${hexNum(MULTIFD_MAGIC)} (handshake)`,
      at(INIT_FIELDS.magic.offset),
    );
    return idx;
  }
  if (hs.version !== MULTIFD_VERSION) {
    report(
      'multifd.init.bad-version',
      `multifd: received packet version ${hs.version} expected ${MULTIFD_VERSION} (handshake)`,
      at(INIT_FIELDS.version.offset),
    );
    return idx;
  }

  let pos = MULTIFD_INIT_SIZE;
  let epoch = 0;
  let stalePayloads = 0;
  let firstStale = -1;
  let previousWasPagesWithSync = false;
  while (pos < stream.length) {
    const hdr = await cursor.bytes(pos, Math.max(packetLength, DEVICE_STATE_HEADER_SIZE));
    if (hdr.length < MULTIFD_PACKET_HDR_SIZE) {
      report(
        'multifd.truncated-header',
        `the stream ends ${hdr.length} bytes into a packet header (MultiFDPacketHdr_t needs ${MULTIFD_PACKET_HDR_SIZE})`,
        at(pos),
      );
      break;
    }
    const start = checkPacketStart(readPacketHdr(hdr));
    if (start) {
      const why =
        start.code === 'multifd.bad-magic'
          ? `; bytes here: ${hex(hdr.subarray(0, 16))}. Framing is lost: decoding of this stream stops`
          : '. Decoding of this stream stops';
      report(start.code, start.message + why, at(pos + start.at));
      break;
    }
    const flags = readPacketHdr(hdr).flags;

    if (isDeviceState(flags)) {
      if (hdr.length < DEVICE_STATE_HEADER_SIZE) {
        report(
          'multifd.truncated-header',
          `the stream ends ${hdr.length} bytes into a device-state header (${DEVICE_STATE_HEADER_SIZE} bytes)`,
          at(pos),
        );
        break;
      }
      const h = readDeviceStateHeader(hdr);
      const nps = payloadLengthOf(h, pageSize);
      const row = packets.push({
        headerOffset: pos,
        headerLength: DEVICE_STATE_HEADER_SIZE,
        payloadLength: nps,
        flags,
        pagesAlloc: 0,
        normalPages: 0,
        zeroPages: 0,
        nextPacketSize: h.nextPacketSize,
        packetNum: -1,
        ramblock: h.idstr,
        instanceId: h.instanceId,
        epoch,
        timestampNs: stream.timestampOf(pos),
      });
      idx.deviceStatePackets++;
      hint(HINTS.deviceState);
      reportAll(checkDeviceStateHeader(h), row);
      const end = pos + DEVICE_STATE_HEADER_SIZE + nps;
      if (end > stream.length) {
        report(
          'multifd.truncated-payload',
          `the stream ends ${stream.length - pos - DEVICE_STATE_HEADER_SIZE} bytes into a ${nps}-byte device-state blob`,
          at(pos + DEVICE_STATE_HEADER_SIZE, row),
        );
        pos = stream.length;
        idx.decodedBytes = pos;
        return idx;
      }
      idx.payloadBytes += nps;
      pos = end;
      continue;
    }

    if (hdr.length < packetLength) {
      report(
        'multifd.truncated-header',
        `the stream ends ${hdr.length} bytes into a ${packetLength}-byte packet header (page size ${pageSize})`,
        at(pos),
      );
      break;
    }
    const h = readRamPacketHeader(hdr);
    const { pagesAlloc, normalPages: normal, zeroPages: zero, nextPacketSize: nps } = h;
    const sync = (flags & FLAG_SYNC) !== 0;
    const method = methodOf(flags);
    const hasPages = normal > 0 || zero > 0;
    const payloadLength = payloadLengthOf(h, pageSize);
    const row = packets.push({
      headerOffset: pos,
      headerLength: packetLength,
      payloadLength,
      flags,
      pagesAlloc,
      normalPages: normal,
      zeroPages: zero,
      nextPacketSize: nps,
      packetNum: h.packetNum,
      ramblock: hasPages ? h.ramblock : '',
      instanceId: 0,
      epoch,
      timestampNs: stream.timestampOf(pos),
    });

    reportAll(checkFlags(flags), row);
    reportAll(checkPageCounts(h, pageSize), row);

    if (hasPages) {
      if (method) {
        idx.methodsSeen.add(method);
        if (idx.method === undefined) idx.method = method;
        else if (method !== idx.method)
          report(
            'multifd.compression-mismatch',
            `multifd ${hs.channelId}: flags received ${hexNum(flags & 0x3e)} flags expected ${hexNum(methodFlags(idx.method))} (${method} vs the channel's ${idx.method})`,
            at(pos + RAM_FIELDS.flags.offset, row),
          );
      }
      const block = packets.lookupRamblock(row);
      idx.ramblocksSeen.add(h.ramblock);
      idx.ramblockLookups.add(block);
      reportAll(checkRamblockName(h), row);
      checkBlockAndOffsets(hdr, Math.min(normal + zero, Math.max(0, offsetCapacity(pagesAlloc, pageSize))), block, row);
      if (zero > 0) hint(HINTS.zeroPages);
      if (normal === 0 && zero > 0 && method !== undefined && method !== 'none') hint(HINTS.zeroOnlyCompressed);
      if (sync) hint(HINTS.pagesWithSync);
      reportAll(checkNocompSize(h, pageSize), row);
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
      report(
        'multifd.truncated-payload',
        `the stream ends ${stream.length - pos - packetLength} bytes into a ${payloadLength}-byte payload`,
        at(pos + packetLength, row),
      );
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

  /** Problems of the header at `pos`, as diagnostics on its row. */
  function reportAll(problems: HeaderProblem[], row: number): void {
    for (const p of problems) report(p.code, p.message, at(pos + p.at, row));
  }

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

  /** The block must be one MEM_SIZE announced (when there is a main channel); then its offsets must fit in it. */
  function checkBlockAndOffsets(hdr: Uint8Array, used: number, name: string, row: number): void {
    const usedLength = ctx.ramblocks?.get(name);
    if (ctx.ramblocks && usedLength === undefined) {
      report(
        'multifd.unknown-ramblock',
        `multifd: unknown ram block ${name}`,
        at(pos + RAM_FIELDS.ramblock.offset, row),
      );
      return;
    }
    reportAll(checkOffsets(hdr, used, pageSize, name, usedLength), row);
  }
}

function sinkSeverity(code: DiagnosticCode): Severity {
  return DIAGNOSTIC_CODES[code].severity;
}
