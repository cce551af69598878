import type { StringTable } from '../util/growableArrays';
import { ChunkedColumn, DeltaColumn, NarrowColumn, RunColumn } from '../util/compactColumns';
import { FLAG_DEVICE_STATE, FLAG_SYNC, methodOf, type CompressionMethod } from './constants';
import { effectiveRamblockName } from './packetHeaders';

export type PacketKind = 'ram' | 'device-state';
export type RowSeverity = 0 | 1 | 2 | 3; // none, info, warning, error

/** One packet as handed to the CLI, the editor and replay. Offsets are not here: read them with packetPages.ts. */
export interface PacketSummary {
  stream: number;
  index: number;
  kind: PacketKind;
  /** Stream offset of the header. */
  headerOffset: number;
  headerLength: number;
  payloadOffset: number;
  /** Bytes of payload that follow (0 when the packet has no normal pages). */
  payloadLength: number;
  flags: number;
  sync: boolean;
  method: CompressionMethod | undefined;
  pagesAlloc: number;
  normalPages: number;
  zeroPages: number;
  nextPacketSize: number;
  /** -1 for device-state packets, which carry none. */
  packetNum: number;
  /** ramblock name (RAM) or idstr (device state). */
  ramblock: string;
  instanceId: number;
  /** Number of SYNC packets earlier on the same channel: epoch k ends with the channel's (k+1)-th SYNC. */
  epoch: number;
  timestampNs: number;
  severity: RowSeverity;
}

/**
 * The packets of one multifd stream, as columns. Built once by the indexer in O(packets); hundreds
 * of thousands of rows cost a few tens of bytes each.
 */
export class PacketTable {
  // About 36 bytes a packet (compactColumns.ts): positions, packet_num, lengths and times as 4-byte deltas
  // within groups of 64 rows; flags in 1 byte and page counts in 2 (hostile values kept on the side); epoch and
  // instance id as runs; the cut ramblock name only where it differs from the name.
  readonly headerOffset = new DeltaColumn(1, false);
  readonly headerLength = new ChunkedColumn(Uint16Array);
  readonly payloadLength = new DeltaColumn(1, true);
  readonly flags = new NarrowColumn(1);
  readonly pagesAlloc = new NarrowColumn(2);
  readonly normalPages = new NarrowColumn(2);
  readonly zeroPages = new NarrowColumn(2);
  readonly nextPacketSize = new ChunkedColumn(Uint32Array);
  readonly packetNum = new DeltaColumn(1, true);
  readonly name = new ChunkedColumn(Int32Array);
  /** Rows whose ramblock QEMU looks up (RAM packets: the name cut at byte 255) differs from the name: interned. */
  private readonly lookupNames = new Map<number, number>();
  readonly instanceId = new RunColumn();
  readonly epoch = new RunColumn();
  readonly timestamp = new DeltaColumn(1, true);
  readonly severity = new ChunkedColumn(Uint8Array);

  constructor(
    readonly stream: number,
    private readonly names: StringTable,
  ) {}

  get length(): number {
    return this.flags.length;
  }

  push(p: Omit<PacketSummary, 'stream' | 'index' | 'kind' | 'sync' | 'method' | 'payloadOffset' | 'severity'>): number {
    this.headerOffset.push(p.headerOffset);
    this.headerLength.push(p.headerLength);
    this.payloadLength.push(p.payloadLength);
    this.flags.push(p.flags);
    this.pagesAlloc.push(p.pagesAlloc);
    this.normalPages.push(p.normalPages);
    this.zeroPages.push(p.zeroPages);
    this.nextPacketSize.push(p.nextPacketSize);
    this.packetNum.push(p.packetNum);
    const name = this.names.intern(p.ramblock);
    this.name.push(name);
    const lookup = p.flags & FLAG_DEVICE_STATE ? p.ramblock : effectiveRamblockName(p.ramblock);
    if (lookup !== p.ramblock) this.lookupNames.set(this.flags.length - 1, this.names.intern(lookup));
    this.instanceId.push(p.instanceId);
    this.epoch.push(p.epoch);
    this.timestamp.push(p.timestampNs);
    this.severity.push(0);
    return this.length - 1;
  }

  /** Raises the row's severity (rows are coloured by their worst diagnostic). */
  mark(i: number, severity: RowSeverity): void {
    if (i >= 0 && i < this.length && severity > this.severity.get(i)) this.severity.set(i, severity);
  }

  /** The ramblock QEMU looks up for row i: computed once, when the row was pushed. The idstr for device state. */
  lookupRamblock(i: number): string {
    return this.names.get(this.lookupNames.get(i) ?? this.name.get(i));
  }

  isDeviceState(i: number): boolean {
    return (this.flags.get(i) & FLAG_DEVICE_STATE) !== 0;
  }

  row(i: number): PacketSummary {
    const flags = this.flags.get(i);
    const headerOffset = this.headerOffset.get(i);
    const headerLength = this.headerLength.get(i);
    return {
      stream: this.stream,
      index: i,
      kind: flags & FLAG_DEVICE_STATE ? 'device-state' : 'ram',
      headerOffset,
      headerLength,
      payloadOffset: headerOffset + headerLength,
      payloadLength: this.payloadLength.get(i),
      flags,
      sync: (flags & FLAG_SYNC) !== 0,
      method: methodOf(flags),
      pagesAlloc: this.pagesAlloc.get(i),
      normalPages: this.normalPages.get(i),
      zeroPages: this.zeroPages.get(i),
      nextPacketSize: this.nextPacketSize.get(i),
      packetNum: this.packetNum.get(i),
      ramblock: this.names.get(this.name.get(i)),
      instanceId: this.instanceId.get(i),
      epoch: this.epoch.get(i),
      timestampNs: this.timestamp.get(i),
      severity: this.severity.get(i) as RowSeverity,
    };
  }
}
