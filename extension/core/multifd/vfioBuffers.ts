import type { StreamBytes } from '../capture/streamBytes';
import type { DiagnosticLocation, Severity } from '../diagnostics/diagnostic';
import { decodeFields } from '../layout/fieldLayout';
import { isVfioIdstr, VFIO_END_OF_STATE_BYTES, VFIO_MIG_FLAG_DEV_CONFIG_STATE } from '../mainchannel/vfioLayouts';
import { be32 } from '../util/bytes';
import type { MultifdStreamIndex } from './indexMultifdStream';
import {
  VFIO_DEVICE_STATE_CONFIG_STATE,
  VFIO_DEVICE_STATE_IDX_INVALID,
  VFIO_DEVICE_STATE_PACKET_LAYOUT,
  VFIO_DEVICE_STATE_PACKET_SIZE,
  VFIO_DEVICE_STATE_PACKET_VER_CURRENT,
} from './vfioDeviceStatePacket';

/**
 * A VFIO device's state sent over multifd (10.0+), put back together as the destination does
 * (vfio_multifd_load_state_buffer, vfio_load_bufs_thread): each device-state packet of a "…/vfio" idstr holds one
 * VFIODeviceStatePacket; the buffers of one (idstr, instance) are ordered by idx, whatever channel carried them,
 * and loaded up to the CONFIG_STATE buffer. What the destination refuses, or would wait for forever, is a problem.
 */

export interface VfioBuffer {
  idx: number;
  flags: number;
  /** Index into the analysis' multifd list, and the packet's row in that stream. */
  source: number;
  streamId: number;
  packet: number;
  /** Stream offset and length of the buffer's data (after the 12-byte VFIODeviceStatePacket). */
  dataOffset: number;
  dataLength: number;
}

export interface VfioProblem {
  message: string;
  location: DiagnosticLocation;
  severity?: Severity;
}

export interface VfioDeviceState {
  idstr: string;
  instance: number;
  /** Data buffers (not CONFIG_STATE) in idx order, each idx once: what the destination writes to the device. */
  buffers: VfioBuffer[];
  config?: VfioBuffer;
  /** idx values below the CONFIG_STATE buffer's that no packet carried. */
  missing: number[];
  problems: VfioProblem[];
}

/** At most this many missing idx values are listed (a hostile idx of 2^32 - 2 leaves billions). */
const MAX_MISSING_LISTED = 16;

export async function assembleVfioDeviceState(
  multifd: readonly MultifdStreamIndex[],
  bytesOf: (streamId: number) => StreamBytes,
): Promise<VfioDeviceState[]> {
  const devices = new Map<string, VfioDeviceState & { byIdx: Map<number, VfioBuffer> }>();
  for (let source = 0; source < multifd.length; source++) {
    const m = multifd[source];
    const t = m.packets;
    const bytes = bytesOf(m.streamId);
    for (let r = 0; r < t.length; r++) {
      if (!t.isDeviceState(r)) continue;
      const idstr = t.lookupRamblock(r);
      if (!isVfioIdstr(idstr)) continue;
      const instance = t.instanceId.get(r);
      const key = `${idstr}\u0000${instance}`;
      let d = devices.get(key);
      if (!d) devices.set(key, (d = { idstr, instance, buffers: [], missing: [], problems: [], byIdx: new Map() }));
      const at = t.headerOffset.get(r) + t.headerLength.get(r);
      const length = t.payloadLength.get(r);
      const where: DiagnosticLocation = {
        stream: m.streamId,
        packet: r,
        streamOffset: at,
        fileOffset: bytes.fileOffsetOf(at),
      };
      const label = `VFIO device "${idstr}" instance ${instance}, packet ${r} of stream ${m.streamId}`;
      if (length < VFIO_DEVICE_STATE_PACKET_SIZE) {
        d.problems.push({
          message: `${label}: a ${length}-byte blob, shorter than a VFIODeviceStatePacket: the destination fails ("packet too short at ${length} (min is ${VFIO_DEVICE_STATE_PACKET_SIZE})")`,
          location: where,
        });
        continue;
      }
      const head = await bytes.read(at, at + VFIO_DEVICE_STATE_PACKET_SIZE);
      if (head.length < VFIO_DEVICE_STATE_PACKET_SIZE) continue; // a hole or the end: the indexer reported it
      const f = Object.fromEntries(decodeFields(VFIO_DEVICE_STATE_PACKET_LAYOUT, head).map((x) => [x.name, x.value]));
      const version = Number(f.version);
      const idx = Number(f.idx);
      const flags = Number(f.flags);
      if (version !== VFIO_DEVICE_STATE_PACKET_VER_CURRENT) {
        d.problems.push({
          message: `${label}: VFIODeviceStatePacket version ${version}: the destination fails ("packet has unknown version ${version}")`,
          location: where,
        });
        continue;
      }
      if (idx === VFIO_DEVICE_STATE_IDX_INVALID) {
        d.problems.push({
          message: `${label}: idx 0x${idx.toString(16)}: the destination fails ("packet index is invalid")`,
          location: { ...where, streamOffset: at + 4, fileOffset: bytes.fileOffsetOf(at + 4) },
        });
        continue;
      }
      const buffer: VfioBuffer = {
        idx,
        flags,
        source,
        streamId: m.streamId,
        packet: r,
        dataOffset: at + VFIO_DEVICE_STATE_PACKET_SIZE,
        dataLength: length - VFIO_DEVICE_STATE_PACKET_SIZE,
      };
      const first = d.byIdx.get(idx);
      if (first) {
        d.problems.push({
          message: `${label}: idx ${idx} again (packet ${first.packet} of stream ${first.streamId} had it): the destination fails ("state buffer ${idx} already filled")`,
          location: { ...where, streamOffset: at + 4, fileOffset: bytes.fileOffsetOf(at + 4) },
        });
        continue;
      }
      d.byIdx.set(idx, buffer);
      if (flags & VFIO_DEVICE_STATE_CONFIG_STATE) {
        if (d.config)
          d.problems.push({
            message: `${label}: a second CONFIG_STATE buffer (idx ${idx}; idx ${d.config.idx} was one): which one ends the device's state depends on arrival order`,
            location: where,
          });
        else d.config = buffer;
      }
    }
  }
  const out: VfioDeviceState[] = [];
  for (const d of devices.values()) {
    await finish(d, bytesOf);
    out.push({
      idstr: d.idstr,
      instance: d.instance,
      buffers: d.buffers,
      config: d.config,
      missing: d.missing,
      problems: d.problems,
    });
  }
  return out;
}

/** Orders the buffers, and says what the destination's load thread would do with them. */
async function finish(
  d: VfioDeviceState & { byIdx: Map<number, VfioBuffer> },
  bytesOf: (streamId: number) => StreamBytes,
): Promise<void> {
  const all = [...d.byIdx.values()].sort((a, b) => a.idx - b.idx);
  const name = `VFIO device "${d.idstr}" instance ${d.instance}`;
  const last = d.config?.idx;
  d.buffers = all.filter((b) => b !== d.config && (last === undefined || b.idx < last));
  const anyBuffer = all[0];
  const at = (b: VfioBuffer, streamOffset: number): DiagnosticLocation => ({
    stream: b.streamId,
    packet: b.packet,
    streamOffset,
    fileOffset: bytesOf(b.streamId).fileOffsetOf(streamOffset),
  });
  const locate = (b: VfioBuffer) => at(b, b.dataOffset - VFIO_DEVICE_STATE_PACKET_SIZE);
  if (!d.config) {
    if (anyBuffer)
      d.problems.push({
        message: `${name}: no buffer is flagged CONFIG_STATE: the destination's load thread never reaches the config space and waits forever`,
        location: locate(all.at(-1)!),
      });
    return;
  }
  // Gaps counted by arithmetic, only the first few listed: a hostile CONFIG_STATE idx of 2^32 - 2 leaves billions.
  let expected = 0;
  let missingCount = 0;
  const gap = (upTo: number) => {
    missingCount += upTo - expected;
    for (; expected < upTo && d.missing.length < MAX_MISSING_LISTED; expected++) d.missing.push(expected);
    expected = upTo + 1;
  };
  for (const b of all) {
    if (b.idx >= last!) break;
    gap(b.idx);
  }
  gap(last!);
  if (missingCount)
    d.problems.push({
      message: `${name}: ${missingCount} buffer(s) below the CONFIG_STATE buffer (idx ${last}) never arrived (idx ${d.missing.join(', ')}${missingCount > d.missing.length ? ', …' : ''}): the destination's load thread waits for idx ${d.missing[0]} forever`,
      location: locate(d.config),
    });
  const after = all.filter((b) => b.idx > last!);
  if (after.length)
    d.problems.push({
      message: `${name}: ${after.length} buffer(s) after the CONFIG_STATE buffer (idx ${after.map((b) => b.idx).join(', ')}): the destination never loads them`,
      location: locate(after[0]),
      severity: 'warning',
    });
  const c = d.config;
  const bytes = bytesOf(c.streamId);
  const head = await bytes.read(c.dataOffset, c.dataOffset + Math.min(8, c.dataLength));
  const tail = await bytes.read(c.dataOffset + c.dataLength - 8, c.dataOffset + c.dataLength);
  if (head.length < 8 || be32(head, 0) !== 0xffffffff || be32(head, 4) !== VFIO_MIG_FLAG_DEV_CONFIG_STATE)
    d.problems.push({
      message: `${name}: the CONFIG_STATE buffer (idx ${c.idx}) does not start with DEV_CONFIG_STATE: the destination fails ("expected FLAG_DEV_CONFIG_STATE")`,
      location: at(c, c.dataOffset),
    });
  else if (c.dataLength < 16 || !VFIO_END_OF_STATE_BYTES.every((v, i) => tail[i] === v))
    d.problems.push({
      message: `${name}: the CONFIG_STATE buffer (idx ${c.idx}) does not end with END_OF_STATE: the config space is cut, or followed by bytes the destination does not read`,
      location: at(c, c.dataOffset + c.dataLength - 8),
      severity: 'warning',
    });
}
