import type { StreamBytes } from '../capture/streamBytes';
import { offsetCapacity } from './framing';
import { offsetEntriesIn, readOffsetEntry } from './packetHeaders';
import type { PacketTable } from './packetTable';

/**
 * The one path from an indexed packet to the pages it writes: its header bytes, the used part of offset[]
 * and the ramblock QEMU looks up. Replay, the cross-stream checks, the debugger and the editor all read
 * pages through here, so they agree on how many offsets a packet has.
 */

/** Reads `length` bytes at a stream offset: a StreamBytes (see headerReader) or a ReadAhead's `bytes`. */
export type HeaderBytes = (offset: number, length: number) => Promise<Uint8Array>;

export function headerReader(stream: StreamBytes): HeaderBytes {
  return (offset, length) => stream.read(offset, offset + length);
}

export interface PacketOffsets {
  /** offset[0 … normal_pages): pages whose data follows. */
  normalOffsets: number[];
  /** offset[normal_pages … normal_pages + zero_pages): zero pages. */
  zeroOffsets: number[];
}

export interface PacketPages extends PacketOffsets {
  /** The ramblock QEMU looks up (the idstr cut at byte 255), from the packet table. */
  block: string;
}

/** The used entries of offset[], clamped to `capacity` and to what the header holds (hostile counts read nothing beyond it). */
export function packetOffsets(header: Uint8Array, normal: number, zero: number, capacity: number): PacketOffsets {
  const room = Math.max(0, Math.min(capacity, offsetEntriesIn(header.length)));
  const n = Math.min(normal, room);
  const z = Math.min(zero, room - n);
  const normalOffsets: number[] = new Array(n);
  const zeroOffsets: number[] = new Array(z);
  for (let i = 0; i < n; i++) normalOffsets[i] = readOffsetEntry(header, i);
  for (let i = 0; i < z; i++) zeroOffsets[i] = readOffsetEntry(header, n + i);
  return { normalOffsets, zeroOffsets };
}

/** The offsets of row `row`, from its header bytes (as read by readPacketHeader). */
export function offsetsOfRow(table: PacketTable, row: number, header: Uint8Array, pageSize: number): PacketOffsets {
  if (table.isDeviceState(row)) return { normalOffsets: [], zeroOffsets: [] };
  return packetOffsets(
    header,
    table.normalPages.get(row),
    table.zeroPages.get(row),
    offsetCapacity(table.pagesAlloc.get(row), pageSize),
  );
}

/** Whether the packet lists any page (so its header is worth reading for offsets). */
export function hasPages(table: PacketTable, row: number): boolean {
  return !table.isDeviceState(row) && table.normalPages.get(row) + table.zeroPages.get(row) > 0;
}

/** The whole header of row `row`, offset[] included. */
export function readPacketHeader(read: HeaderBytes, table: PacketTable, row: number): Promise<Uint8Array> {
  return read(table.headerOffset.get(row), table.headerLength.get(row));
}

/** The pages packet `row` writes: its block and offsets. Reads the header only when the packet lists pages. */
export async function readPacketPages(
  read: HeaderBytes,
  table: PacketTable,
  row: number,
  pageSize: number,
): Promise<PacketPages> {
  const block = table.lookupRamblock(row);
  if (!hasPages(table, row)) return { block, normalOffsets: [], zeroOffsets: [] };
  return { block, ...offsetsOfRow(table, row, await readPacketHeader(read, table, row), pageSize) };
}
