import type { PageProvenance } from '../replay/provenance';

/** What `mfd diff A B --json` prints. In every list that has them, the entries that differ come first. */

export interface ValueDiff {
  name: string;
  a?: unknown;
  b?: unknown;
  differs: boolean;
}

export interface CaptureSide {
  file: string;
  format: string;
  /** "10.0.2" from the capture's META (the recorder's driver writes it), when there. */
  sourceQemu?: string;
  destinationQemu?: string;
  /** What the bytes say about the sender's release ("≥ 9.2", "≤ 8.1"). */
  versionHint?: string;
  machineType?: string;
  pageSize: number;
  compression?: string;
  /** Where zero pages travelled: in multifd packets' zero_pages, as ZERO records on the main channel, both, none. */
  zeroPages: 'multifd' | 'main channel' | 'both' | 'none';
  /** What ends an epoch on the main channel: MULTIFD_FLUSH, or EOS (multifd synced after every section). */
  syncMode?: 'flush' | 'eos';
  /** SYNC packets that carry pages (senders up to 8.2). */
  syncPacketsWithPages: number;
}

export interface StreamSummary {
  id: number;
  kind: string;
  channel: number | null;
  bytes: number;
  packets: number;
  syncPackets: number;
  normalPages: number;
  zeroPages: number;
}

export interface RamBlockDiff {
  name: string;
  a?: number;
  b?: number;
  /** 'size': in both with different used_length; 'only-a' / 'only-b': announced by one MEM_SIZE only. */
  status: 'same' | 'size' | 'only-a' | 'only-b';
}

export interface FieldDiff {
  /** Field path through structs and subsections: `regs[3]`, `env.tsc`, `subsection:cpu/xsave.xsave_buf`. */
  path: string;
  a?: string;
  b?: string;
}

export interface DeviceDiff {
  /** idstr and instance id: section ids are numbered per run, so they are shown, not matched on. */
  idstr: string;
  instanceId: number;
  status: 'only-a' | 'only-b' | 'both';
  versionA?: number;
  versionB?: number;
  sectionA?: number;
  sectionB?: number;
  /** Fields whose values differ, or that one side has and the other not (capped; fieldsDiffering counts them all). */
  fields: FieldDiff[];
  fieldsDiffering: number;
}

export interface PageSide extends PageProvenance {
  /** The provenance as one line (formatProvenance). */
  text: string;
}

export interface PageDiff {
  offset: number;
  a: PageSide;
  b: PageSide;
}

export interface BlockRamDiff {
  block: string;
  sizeA: number;
  sizeB: number;
  pagesCompared: number;
  pagesDiffering: number;
  /** The differing pages, in offset order (at most DiffOptions.maxPages per block). */
  pages: PageDiff[];
}

export interface RamDiff {
  /** False when a replay did not finish (its reason in `problems`): differences may then be the replay's. */
  complete: boolean;
  blocks: BlockRamDiff[];
  /** Blocks one capture rebuilt and the other did not. */
  unmatched: string[];
  problems: string[];
}

export interface CompatNote {
  topic: 'sync-with-pages' | 'zero-pages' | 'machine-type' | 'sync-mode' | 'compression' | 'page-size' | 'channels';
  severity: 'info' | 'warning';
  text: string;
}

export interface CaptureDiff {
  a: CaptureSide;
  b: CaptureSide;
  /** QEMU versions, machine types, the zero-page path and sync mode. */
  summary: ValueDiff[];
  capabilities: ValueDiff[];
  parameters: ValueDiff[];
  streams: { a: StreamSummary[]; b: StreamSummary[]; counts: ValueDiff[] };
  ramblocks: RamBlockDiff[];
  devices: { unavailable?: { a?: string; b?: string }; diffs: DeviceDiff[] };
  /** Absent with --no-ram. */
  ram?: RamDiff;
  notes: CompatNote[];
}
