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
  kind: 'ram' | 'device-state';
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
}
