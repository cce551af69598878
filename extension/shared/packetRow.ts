/** 0 none, 1 info, 2 warning, 3 error (PacketTable's severity column). */
export type RowSeverity = 0 | 1 | 2 | 3;

/** Identifies a packet across the capture: stream id + index in that stream's packet list. */
export interface PacketRef {
  stream: number;
  index: number;
}

/** One packet-list row, as shown. */
export interface PacketRow extends PacketRef {
  /** Position in the current (filtered, sorted) view. */
  viewIndex: number;
  /** MultiFDInit_t id, -1 when unknown. */
  channel: number;
  /**
   * Multifd packets: 'ram' or 'device-state'. The main channel: 'main' for its top-level records (sections,
   * CONFIGURATION, commands, EOF, VMDESCRIPTION), 'ram-record' for the RAM records inside the RAM section,
   * 'return-path' for the destination's messages on its other direction.
   */
  kind: 'ram' | 'device-state' | 'main' | 'ram-record' | 'return-path';
  epoch: number;
  /** -1 for device-state packets. */
  packetNum: number;
  flags: number;
  /** "SYNC | ZLIB" etc. */
  flagsText: string;
  sync: boolean;
  method: string;
  /** ramblock (RAM) or idstr (device state). */
  ramblock: string;
  normalPages: number;
  zeroPages: number;
  nextPacketSize: number;
  /** Nanoseconds since the first record of the capture. */
  timeNs: number;
  severity: RowSeverity;
  /** Main channel: the record's name (ZERO, PAGE, START, FULL, COMMAND, EOF, PONG…). */
  record?: string;
  /** Main channel: the section the record belongs to (its idstr; "ram" for RAM records). */
  section?: string;
  /** Main channel: the command's name (COMMAND rows). */
  command?: string;
  /** RAM records: the page offset in the block. */
  offset?: number;
  /** Main channel: stream offset of the record (the return path's own direction for return-path rows). */
  streamOffset?: number;
}
