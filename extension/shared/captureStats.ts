/**
 * What `mfd stats --json` prints and the editor's Timeline view draws (declared here, in extension/shared, since
 * the core computes it and the webview reads it). Shaped so that a timeline can draw from it: every position is
 * on one x axis (capture time in ns, or a stream's byte position when the capture has no times), the figures are
 * exact, and only `series` is downsampled, for drawing.
 */

export type StatsAxisKind = 'time' | 'bytes';

export interface StatsAxis {
  kind: StatsAxisKind;
  /** 'ns' since the capture started (the recorder's or the pcap's clock), or 'byte' offsets in the one stream. */
  unit: 'ns' | 'byte';
  /** Why this axis: the capture's timestamps, or none (a raw dump, a file: stream). */
  reason: string;
  start: number;
  end: number;
  /** Width of the bins peak throughput is measured over (`--bin`), in axis units. */
  binWidth: number;
  bins: number;
}

export interface Throughput {
  /** bytes / (last − first timestamp of the stream's bytes); null when they all arrived at one instant. */
  averageBytesPerSecond: number | null;
  /** The fullest bin's bytes / the bin's width. */
  peakBytesPerSecond: number;
  /** Where that bin starts (x). */
  peakAt: number;
}

export interface ChannelShare {
  stream: number;
  /** MultiFDInit_t id. */
  channel?: number;
  packets: number;
  dataPages: number;
  zeroPages: number;
  /** Header and payload bytes of its packets. */
  wireBytes: number;
}

export interface CompressionFigures {
  /** normal_pages × page size. */
  rawBytes: number;
  /** What the packets' payloads took on the wire. */
  payloadBytes: number;
  /** rawBytes / payloadBytes; null when there was no payload. */
  ratio: number | null;
}

export interface StreamStats {
  id: number;
  kind: string;
  channel?: number;
  /** Source → destination bytes (the return path is not counted). */
  bytes: number;
  /** Multifd: MultiFDPacket_t headers (device-state packets included). Main channel: 0 (see ramRecords). */
  packets: number;
  deviceStatePackets: number;
  dataPages: number;
  zeroPages: number;
  /** x of the first and last byte's DATA record; span = last − first. */
  first?: number;
  last?: number;
  span?: number;
  /** Only on the time axis. */
  throughput: Throughput | null;
  compression?: CompressionFigures;
  /** Multifd: x of each packet carrying the SYNC flag. */
  syncs: number[];
  /** Main channel: x of each MULTIFD_FLUSH and each EOS record. */
  flushes: number[];
  eos: number[];
  ramRecords?: { total: number; page: number; zero: number };
  returnPathBytes: number;
}

export interface EpochStats {
  /** Epoch k: every channel's packets up to and including its (k+1)-th SYNC, and the main records before the (k+1)-th sync marker. */
  epoch: number;
  /** x of its first and last packet or record. */
  start?: number;
  end?: number;
  packets: number;
  dataPages: number;
  zeroPages: number;
  /** Of those, sent on the main channel (PAGE/XBZRLE and ZERO records). */
  mainDataPages: number;
  mainZeroPages: number;
  /** Pages already sent in an earlier epoch (dirtied since). */
  resentPages: number;
  /** Pages sent more than once within this epoch (QEMU 7.2 does it at batch edges). */
  repeatedPages: number;
  channels: ChannelShare[];
  /** The busiest channel's wire bytes over the mean of all multifd channels; 1 is even, null without multifd bytes. */
  balance: number | null;
  compression: CompressionFigures;
}

export type PhaseName = 'setup' | 'iteration' | 'switchover' | 'postcopy' | 'end';

export interface Phase {
  name: PhaseName;
  /** Iterations count from 1. */
  index?: number;
  /** Main-channel stream offsets [start, end). */
  startOffset: number;
  endOffset: number;
  start: number;
  end: number;
  /** Top-level records (sections, commands) that start inside it. */
  records: number;
  /** Iterations: the epoch their RAM records belong to; the switchover: the epoch it opens. */
  epoch?: number;
  /** Switchover: where the device state starts (the first FULL section), and how many sections it has. */
  deviceState?: { startOffset: number; start: number; sections: number };
}

export interface DerivedStats {
  /** From the first byte of any stream to the last (x units). */
  total: number;
  /**
   * The switchover as the capture shows it: precopy, from the first record after the last iteration (the final
   * RAM pass, then the device state), or the first multifd packet of its epoch when that came earlier, to
   * QEMU_VM_EOF; postcopy, to POSTCOPY_RUN.
   */
  downtime?: { start: number; end: number; duration: number; lastIteration: number; deviceState: number };
  iterations: number;
}

export interface StatsSeriesLane {
  stream: number;
  /** Per drawing point: bytes, packets (multifd) or RAM records (main channel) in it. */
  bytes: number[];
  packets: number[];
}

/** For drawing only: the bins merged `binsPerPoint` at a time so there are at most `maxPoints`. */
export interface StatsSeries {
  start: number;
  pointWidth: number;
  binsPerPoint: number;
  points: number;
  lanes: StatsSeriesLane[];
}

/** A message the destination sent back on the main channel's return path (time axis only). */
export interface ReturnPathMarker {
  name: string;
  at: number;
}

/** A postcopy page request (REQ_PAGES / REQ_PAGES_ID), for a timeline's request lane. */
export interface PageRequestMarker {
  at?: number;
  ramblock: string;
  /** Byte offset and length asked for. */
  start: number;
  length: number;
  pages: number;
  answered: number;
  /** The slowest answered page's latency. */
  maxLatencyMs?: number;
}

export interface CaptureStats {
  file: string;
  pageSize: number;
  axis: StatsAxis;
  streams: StreamStats[];
  epochs: EpochStats[];
  phases: Phase[];
  derived: DerivedStats;
  series: StatsSeries;
  returnPath: ReturnPathMarker[];
  pageRequests: PageRequestMarker[];
  /** What the figures leave out (mapped-ram pages, holes, a main channel cut short). */
  notes: string[];
}
