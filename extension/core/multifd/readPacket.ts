import type { StreamBytes } from '../capture/streamBytes';
import { decodeFields, type DecodedField } from '../layout/fieldLayout';
import { DEVICE_STATE_LAYOUT, RAM_PACKET_LAYOUT } from './layouts';
import { offsetEntryPosition } from './packetHeaders';
import { headerReader, offsetsOfRow, readPacketHeader, type PacketOffsets } from './packetPages';
import type { PacketSummary, PacketTable } from './packetTable';

export { packetOffsets } from './packetPages';

/** A packet decoded in full for display: header fields from the layout, and the used part of offset[]. */
export interface DecodedPacket extends PacketOffsets {
  summary: PacketSummary;
  header: Uint8Array;
  fields: DecodedField[];
  /** Where offset[0] lives in the header (byte offset from the header start). */
  offsetsFieldOffset: number;
}

/** A packet header read from a debuggee's memory (debug/decodeAtAddress.ts), as the editor shows it. */
export interface LiveDecodedPacket extends DecodedPacket {
  memoryReference: string;
  /** The address the adapter reported for the first byte read. */
  address?: string;
  /** What QEMU's receiver would reject, and the indexer's lints, in the indexer's words. */
  problems: string[];
}

export async function readPacket(
  stream: StreamBytes,
  table: PacketTable,
  index: number,
  pageSize: number,
): Promise<DecodedPacket> {
  const summary = table.row(index);
  const header = await readPacketHeader(headerReader(stream), table, index);
  return decodedPacket(summary, header, offsetsOfRow(table, index, header, pageSize));
}

/** Puts a header's fields and offsets together (also used for headers read from a debuggee's memory). */
export function decodedPacket(summary: PacketSummary, header: Uint8Array, offsets: PacketOffsets): DecodedPacket {
  if (summary.kind === 'device-state') {
    return {
      summary,
      header,
      fields: decodeFields(DEVICE_STATE_LAYOUT, header),
      normalOffsets: [],
      zeroOffsets: [],
      offsetsFieldOffset: DEVICE_STATE_LAYOUT.fixedSize,
    };
  }
  return {
    summary,
    header,
    fields: decodeFields(RAM_PACKET_LAYOUT, header),
    ...offsets,
    offsetsFieldOffset: offsetEntryPosition(0),
  };
}
