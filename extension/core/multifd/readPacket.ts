import type { StreamBytes } from '../capture/streamBytes';
import { decodeFields, type DecodedField } from '../layout/fieldLayout';
import { be64 } from '../util/bytes';
import { pageCount } from './constants';
import { DEVICE_STATE_LAYOUT, RAM_PACKET_LAYOUT } from './layouts';
import type { PacketSummary, PacketTable } from './packetTable';

/** A packet decoded in full: header fields from the layout, and the used part of offset[]. */
export interface DecodedPacket {
  summary: PacketSummary;
  header: Uint8Array;
  fields: DecodedField[];
  /** offset[0 … normal_pages): pages whose data follows. */
  normalOffsets: number[];
  /** offset[normal_pages … normal_pages + zero_pages): zero pages. */
  zeroOffsets: number[];
  /** Where each offset[] entry lives in the header (byte offset from the header start). */
  offsetsFieldOffset: number;
}

export async function readPacket(stream: StreamBytes, table: PacketTable, index: number, pageSize: number): Promise<DecodedPacket> {
  const summary = table.row(index);
  const header = await stream.read(summary.headerOffset, summary.headerOffset + summary.headerLength);
  if (summary.kind === 'device-state') {
    return { summary, header, fields: decodeFields(DEVICE_STATE_LAYOUT, header), normalOffsets: [], zeroOffsets: [], offsetsFieldOffset: DEVICE_STATE_LAYOUT.fixedSize };
  }
  const { normalOffsets, zeroOffsets } = packetOffsets(header, summary.normalPages, summary.zeroPages, Math.min(summary.pagesAlloc, pageCount(pageSize)));
  return { summary, header, fields: decodeFields(RAM_PACKET_LAYOUT, header), normalOffsets, zeroOffsets, offsetsFieldOffset: RAM_PACKET_LAYOUT.array!.offset };
}

/** The used entries of offset[], clamped to what the header can hold (hostile counts read nothing beyond it). */
export function packetOffsets(header: Uint8Array, normal: number, zero: number, capacity: number): { normalOffsets: number[]; zeroOffsets: number[] } {
  const base = RAM_PACKET_LAYOUT.array!.offset;
  const room = Math.max(0, Math.min(capacity, Math.floor((header.length - base) / 8)));
  const n = Math.min(normal, room);
  const z = Math.min(zero, room - n);
  const normalOffsets: number[] = new Array(n);
  const zeroOffsets: number[] = new Array(z);
  for (let i = 0; i < n; i++) normalOffsets[i] = be64(header, base + 8 * i);
  for (let i = 0; i < z; i++) zeroOffsets[i] = be64(header, base + 8 * (n + i));
  return { normalOffsets, zeroOffsets };
}
