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
import { isBoundary, provedBoundaryFrom, type MultifdHole } from './resync';

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
  /** Holes in the stream (a pcap's dropped segments), where decoding resumed after each. */
  holes: MultifdHole[];
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
    holes: [],
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
  const initHole = stream.holeIn(0, MULTIFD_INIT_SIZE);
  if (initHole) {
    idx.holes.push({ ...initHole, rowBefore: -1, scanned: false });
    report(
      'multifd.hole-unrecovered',
      `stream ${streamId}: ${initHole.length} byte(s) at stream offset ${initHole.streamOffset} are missing, inside the ${MULTIFD_INIT_SIZE}-byte handshake (MultiFDInit_t): the channel id is unknown and the stream is not decoded`,
      at(initHole.streamOffset),
    );
    return idx;
  }
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
    const headerHole = stream.holeIn(pos, pos + MULTIFD_PACKET_HDR_SIZE);
    if (headerHole) {
      if (!(await resumeAfter(headerHole))) break;
      continue;
    }
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
    const fullHeaderHole = stream.holeIn(pos, pos + (isDeviceState(flags) ? DEVICE_STATE_HEADER_SIZE : packetLength));
    if (fullHeaderHole) {
      if (!(await resumeAfter(fullHeaderHole))) break;
      continue;
    }

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
      const blobHole = end <= stream.length ? stream.holeIn(pos + DEVICE_STATE_HEADER_SIZE, end) : undefined;
      if (blobHole) {
        if (!(await resumeAfter(blobHole, row, end))) break;
        continue;
      }
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
    const payloadHole = end <= stream.length ? stream.holeIn(pos + packetLength, end) : undefined;
    if (payloadHole) {
      if (!(await resumeAfter(payloadHole, row, end))) break;
      continue;
    }
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

  /**
   * A hole at or after `pos`: when a packet's header survived (`row`) and the framing it gives ends on a
   * boundary, decoding goes on there; otherwise it resumes at the first boundary provable after the hole
   * (resync.ts). Says where, and what was skipped, as an error. False when no boundary can be proved.
   */
  async function resumeAfter(
    hole: { streamOffset: number; length: number },
    row?: number,
    framedEnd?: number,
  ): Promise<boolean> {
    const holeEnd = hole.streamOffset + hole.length;
    const rowBefore = row ?? packets.length - 1;
    const ctxR = { pageSize, ramblocks: ctx.ramblocks };
    let resumedAt: number | undefined;
    let scanned = false;
    // Where the surviving header says the next packet starts; when that is in a hole too, the scan starts after it.
    const endHole = framedEnd === undefined ? undefined : stream.holeIn(framedEnd, framedEnd + 1);
    if (framedEnd !== undefined && !endHole && (await isBoundary(stream, framedEnd, ctxR))) resumedAt = framedEnd;
    else {
      scanned = true;
      const from = endHole ? Math.max(holeEnd, endHole.streamOffset + endHole.length) : holeEnd;
      resumedAt = await provedBoundaryFrom(stream, from, ctxR);
    }
    const record: MultifdHole = {
      streamOffset: hole.streamOffset,
      length: hole.length,
      rowBefore,
      damagedRow: row,
      resumedAt,
      rowAfter: resumedAt === undefined ? undefined : packets.length,
      scanned,
    };
    idx.holes.push(record);
    const channel = `stream ${streamId} (channel ${hs.channelId})`;
    const what =
      row !== undefined
        ? `inside the payload of packet ${row}${packets.packetNum.get(row) >= 0 ? ` (packet_num ${packets.packetNum.get(row)})` : ''}, whose header survived`
        : `where a packet header was expected at stream offset ${pos}`;
    const compressed = idx.method !== undefined && idx.method !== 'none';
    const codec = compressed
      ? `; this channel's ${idx.method} stream is one per channel and continuous, so its payloads after the hole cannot be decompressed`
      : '';
    const lastNum = lastPacketNum(rowBefore);
    if (resumedAt === undefined) {
      report(
        'multifd.hole-unrecovered',
        `${channel}: ${hole.length} byte(s) at stream offset ${hole.streamOffset} are missing (${what}); no packet boundary can be proved after it, so the remaining ${stream.length - holeEnd} byte(s) are not decoded${lastNum >= 0 ? `; packets after packet_num ${lastNum} are lost` : ''}${codec}`,
        at(hole.streamOffset, row),
      );
      return false;
    }
    const skipped = Math.max(0, resumedAt - holeEnd);
    const follow = scanned
      ? `decoding resumed at stream offset ${resumedAt}, the first header after the hole that passes QEMU's receiver checks and whose packet ends on another boundary; ${skipped} byte(s) after the hole were skipped, and whole packets may be lost with it (replay names them by packet_num)`
      : `the header frames the packet, so decoding resumed at its end, stream offset ${resumedAt} (nothing skipped); the pages whose bytes are in the hole cannot be rebuilt`;
    report(
      'multifd.resync',
      `${channel}: ${hole.length} byte(s) at stream offset ${hole.streamOffset} are missing (${what}); ${follow}${codec}`,
      { ...at(hole.streamOffset, row) },
    );
    pos = resumedAt;
    previousWasPagesWithSync = false;
    return true;
  }

  function lastPacketNum(row: number): number {
    for (let r = row; r >= 0; r--) if (!packets.isDeviceState(r)) return packets.packetNum.get(r);
    return -1;
  }

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
