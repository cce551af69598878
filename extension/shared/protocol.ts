/**
 * The one message protocol between the extension host (document model) and the webview (UI).
 * Both sides import these types; nothing else crosses the boundary. The webview asks for what it shows,
 * in ranges: it never receives the whole capture.
 *
 * Requests carry an `id` and get exactly one `response` (result or error) with the same id. Events flow
 * either way without a reply. Strings that come from a capture (ramblock names, idstrs, META text) are data:
 * the webview shows them with textContent only.
 */

import type { PacketRef, PacketRow } from './packetRow';
import type { SortColumn } from './packetColumns';
import type { CaptureStats } from './captureStats';

export type { PacketRef, PacketRow, RowSeverity } from './packetRow';
export type { SortColumn } from './packetColumns';
export type SortDirection = 'asc' | 'desc';
export type Severity = 'error' | 'warning' | 'info';

export interface ViewSpec {
  filter: string;
  sort: { column: SortColumn; direction: SortDirection };
}

export interface FilterErrorInfo {
  message: string;
  start: number;
  end: number;
}

export interface ViewInfo {
  viewId: number;
  /** Rows in the view (after the filter). */
  rowCount: number;
  /** Rows in the capture: multifd packets and the main channel's rows. */
  totalCount: number;
  /** Of totalCount, the main channel's rows (its records, commands and return-path messages). */
  mainCount?: number;
  error?: FilterErrorInfo;
  /** True when the view was superseded by a newer setView before it finished. */
  cancelled?: boolean;
}

export interface SummaryInfo {
  fileName: string;
  format: string;
  formatDescription: string;
  /** What the file is, in a few words ("tcpdump capture (pcap)", "libvirt save image"), and how it was read. */
  input: string;
  inputDescription: string;
  /** A tcpdump file: the migration shown ("2 of 3: to 127.0.0.1:4444, started …"), when the file holds several. */
  migration?: string;
  qemuVersionHint: string | null;
  qemuVersionReasons: string[];
  /** The QEMU fact: the recorded versions ("10.0.2", "9.2.0 → 10.0.2"), else the hint from the bytes. */
  qemuVersion: string;
  /** What the capture recorded about the two QEMUs (core/recordedSetup.ts). */
  setup: RecordedSetupInfo;
  pageSize: number;
  pageSizeSource: string;
  channels: {
    stream: number;
    channel: number | null;
    packets: number;
    compression: string | null;
    uuid: string | null;
  }[];
  compression: string | null;
  totals: {
    packets: number;
    syncPackets: number;
    normalPages: number;
    zeroPages: number;
    mainZeroRecords: number;
    mainPageRecords: number;
  };
  diagnosticCounts: Record<Severity, number>;
  ramblocks: { name: string; usedLength: number }[];
  /** ramblocks named by packets (when there is no main channel, the sizes are unknown). */
  packetRamblocks: string[];
  hasMainChannel: boolean;
  trusted: boolean;
  /** Postcopy page requests (REQ_PAGES on the return path) and the latency of the requested pages; absent: none. */
  pageRequests?: PageRequestsSummaryInfo;
}

/** The QEMU builds, machine type, capabilities and migration parameters a capture records. */
export interface RecordedSetupInfo {
  source?: { version: string; package?: string };
  destination?: { version: string; package?: string };
  machineType?: string;
  capabilities: string[];
  capabilitiesFrom?: 'recorder' | 'CONFIGURATION';
  parameters: [string, string][];
}

/** The figures `mfd inspect` prints on its postcopy line (core/postcopy/pageRequests.ts computes them). */
export interface PageRequestsSummaryInfo {
  requests: number;
  pagesRequested: number;
  answered: number;
  answeredViaMain: number;
  answeredViaPreempt: number;
  /** Pages that came only before they were requested: on their way when the destination asked. */
  beforeRequest: number;
  unanswered: number;
  /** False for a capture without times (no latency then). */
  timed: boolean;
  latency?: { minMs: number; medianMs: number; p95Ms: number; maxMs: number };
}

export interface FilterFieldInfo {
  name: string;
  type: 'number' | 'string' | 'boolean' | 'offsets';
  description: string;
  cField?: string;
}

/** A header field for the details tree and byte highlighting (from the layout). */
export interface FieldNode {
  name: string;
  /** Byte range in the header. */
  offset: number;
  width: number;
  display: string;
  meaning: string;
  since?: string;
  filterName?: string;
}

export interface OffsetEntry {
  /** Position in offset[]. */
  slot: number;
  /** Page offset within the ramblock. */
  value: number;
  kind: 'normal' | 'zero';
  /** Byte offset of the entry in the header. */
  headerOffset: number;
}

export interface DiagnosticInfo {
  /** Index in the capture's diagnostic list. */
  id: number;
  code: string;
  severity: Severity;
  message: string;
  location: string;
  packet?: PacketRef;
}

export interface PacketDetails {
  ref: PacketRef;
  row: PacketRow;
  cStruct: string;
  headerOffset: number;
  headerLength: number;
  payloadOffset: number;
  payloadLength: number;
  /** The header bytes (≤ 320 + 8 × page_count). */
  header: Uint8Array;
  fields: FieldNode[];
  offsetsFieldOffset: number;
  /** Bytes of one offset[] entry in the header. */
  offsetEntryWidth: number;
  offsets: OffsetEntry[];
  /** offset[] slots beyond the used ones (not listed one by one). */
  unusedSlots: number;
  diagnostics: DiagnosticInfo[];
  /** qpl, uadk, qatzip: how the payload is cut into compressed pages or gzip members. */
  framing?: PayloadFramingInfo;
  /** Packets on the same channel before/after, for navigation. */
  channelPrev?: PacketRef;
  channelNext?: PacketRef;
}

/**
 * How a qpl/uadk/qatzip payload is cut (the core's describePayloadFraming, restated here because shared imports
 * nothing): qpl/uadk give a be32 size per normal page, raw when it equals the page size; qatzip a run of gzip members.
 */
export interface PayloadFramingInfo {
  method: 'qpl' | 'uadk' | 'qatzip';
  pageSize: number;
  /** qpl/uadk: bytes of the size array that starts the payload. */
  sizeArrayLength?: number;
  /** qpl/uadk: per normal page (slot in offset[] order), where its bytes start in the payload and how many. */
  pages?: { slot: number; start: number; size: number; raw: boolean }[];
  /** qatzip: per gzip member, its bytes in the payload, QZ src_sz/dest_sz and the pages its output covers. */
  members?: { start: number; length: number; srcSize: number; destSize: number; firstSlot: number; lastSlot: number }[];
  /** Where the description stops or does not add up. */
  problem?: string;
}

export interface PageContent {
  ref: PacketRef;
  slot: number;
  offset: number;
  ramblock: string;
  kind: 'normal' | 'zero';
  /** How the content was obtained. */
  source: 'payload' | 'decoded' | 'zero' | 'unavailable';
  bytes?: Uint8Array;
  /** For nocomp: where the page lies in the stream. */
  streamOffset?: number;
  note?: string;
}

export interface PayloadChunk {
  ref: PacketRef;
  start: number;
  bytes: Uint8Array;
  total: number;
  streamOffset: number;
}

export interface PageWriterInfo {
  /** The ramblock written (as QEMU looks it up). */
  block: string;
  ref?: PacketRef;
  /** Main-channel record index for a main-channel write. */
  record?: number;
  kind: string;
  epoch: number;
  packetNum?: number;
  label: string;
}

/** The page map of a ramblock: one PageState per page. */
export interface PageMapInfo {
  block: string;
  pageSize: number;
  /** PageState of each page. */
  states: Uint8Array;
  /** Pages in each state (index = state value). */
  counts: number[];
  /** The replay/compare result this map includes, if any. */
  compared: boolean;
}

export interface ReplayInfo {
  outDir: string;
  /** False when Compare ran without keeping the images (its temporary folder is gone). */
  imagesKept: boolean;
  blocks: { name: string; file: string; size: number; pagesWritten: number; zeroPages: number; neverWritten: number }[];
  mismatches: { block: string; mismatchedPages: number }[];
  diagnostics: number;
}

/** A device section of the main channel, for the Devices view (its fields come by getDeviceFields, a page at a time). */
export interface DeviceSectionInfo {
  /** The section's number in the Devices list (getDeviceFields names it so). */
  section: number;
  idstr: string;
  instanceId?: number;
  versionId?: number;
  sectionId: number;
  /** FULL, START, PART, END. */
  kind: string;
  /** The section's record, stream offsets [start, end) of the main channel. */
  start: number;
  end: number;
  /** Where the VM description put its body, when the section was decoded through it. */
  body?: { start: number; end: number };
  /** Its row in the packet list (the details and bytes panes show it). */
  row: PacketRef;
  /** Fields at its top level; 0 when the section cannot be decoded. */
  fieldCount: number;
  /** The section's diagnostics (the Problems entries of its row). */
  problems: DiagnosticInfo[];
}

/** One decoded field of a device section (core/vmstate's DecodedField, shown). */
export interface DeviceFieldInfo {
  /** Child positions from the section's top level down to this field: getDeviceFields' path for its children. */
  path: number[];
  name: string;
  /** Array element index. */
  index?: number;
  type: string;
  /** Stream offset and length of the field's bytes (structs and subsections: all of theirs). */
  offset: number;
  length: number;
  /** The value as mfd devices prints it; empty for structs and subsections. */
  value: string;
  /** Fields inside a struct or subsection. */
  childCount: number;
  subsection?: boolean;
  /** A subsection's version_id. */
  version?: number;
}

export interface DeviceFieldsPage {
  section: number;
  path: number[];
  start: number;
  /** Children at the path in all; `fields` holds at most the count asked for, capped by the host. */
  total: number;
  fields: DeviceFieldInfo[];
  /** Where decoding this section stopped or disagreed with the bytes (its footer, the description). */
  problems: { offset: number; message: string }[];
}

export type CommandName = 'replay' | 'compare' | 'goToPacket' | 'findPage' | 'export' | 'record' | 'showProblems';

/** Requests from the webview: method → params and result. */
export interface RequestMap {
  setView: { params: ViewSpec; result: ViewInfo };
  getRows: {
    params: { viewId: number; start: number; count: number };
    result: { viewId: number; start: number; rows: PacketRow[] };
  };
  getPacket: { params: PacketRef; result: PacketDetails };
  getPayload: { params: PacketRef & { start: number; length: number }; result: PayloadChunk };
  getPage: { params: PacketRef & { slot: number }; result: PageContent };
  /** Where a packet sits in the current view (-1 when filtered out). */
  locate: { params: PacketRef & { viewId: number }; result: { viewIndex: number } };
  getDiagnostics: {
    params: { start: number; count: number; severity?: Severity };
    result: { total: number; start: number; items: DiagnosticInfo[] };
  };
  getPageMap: { params: { block: string }; result: PageMapInfo };
  getPageWriters: {
    params: { block: string; offset: number };
    result: { block: string; offset: number; writers: PageWriterInfo[] };
  };
  /** The Devices view: every device section of the main channel; `unavailable` says why none can be decoded. */
  getDeviceSections: { params: Record<string, never>; result: { sections: DeviceSectionInfo[]; unavailable?: string } };
  /** Children of a device section (path []) or of one of its structs, [start, start+count), count capped. */
  getDeviceFields: {
    params: { section: number; path: number[]; start: number; count: number };
    result: DeviceFieldsPage;
  };
  /** The Timeline view: what `mfd stats --json` prints for this capture, computed once by the host. */
  getStats: { params: Record<string, never>; result: CaptureStats };
}
export type RequestMethod = keyof RequestMap;

export type RequestOf<M extends RequestMethod> = {
  type: 'request';
  id: number;
  method: M;
  params: RequestMap[M]['params'];
};
export type WebviewRequest = { [M in RequestMethod]: RequestOf<M> }[RequestMethod];

/** The host's answer to each request, one handler per method: each return type is checked against RequestMap. */
export type RequestHandlers = {
  [M in RequestMethod]: (params: RequestMap[M]['params']) => RequestMap[M]['result'] | Promise<RequestMap[M]['result']>;
};

export type WebviewEvent =
  | { type: 'ready' }
  | { type: 'runCommand'; command: CommandName; args?: unknown }
  /** The selection changed (the host keeps it for commands such as Find Page and Export). */
  | { type: 'selection'; packet?: PacketRef; block?: string; offset?: number }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string };

export type WebviewToHost = WebviewRequest | WebviewEvent;

export type ResultOf<M extends RequestMethod> = {
  type: 'response';
  id: number;
  method: M;
  result: RequestMap[M]['result'];
};
export type HostResponse =
  | { [M in RequestMethod]: ResultOf<M> }[RequestMethod]
  | { type: 'response'; id: number; method: RequestMethod; error: string };

export type HostEvent =
  | { type: 'loading'; message: string }
  | { type: 'init'; summary: SummaryInfo; fields: FilterFieldInfo[] }
  | { type: 'loadFailed'; message: string }
  /** Scroll to and select a packet (Go to Packet, Problems links, replay mismatches). */
  | { type: 'reveal'; packet: PacketRef; slot?: number; clearFilterIfHidden?: boolean }
  /** Show a page in the page map (Find Page). */
  | { type: 'showPage'; block: string; offset: number }
  | { type: 'replayDone'; replay: ReplayInfo }
  | { type: 'progress'; message?: string };

export type HostToWebview = HostResponse | HostEvent;

/** Persisted with the webview's setState (no retainContextWhenHidden). */
export interface WebviewState {
  view: ViewSpec;
  selected?: PacketRef;
  selectedField?: string;
  scrollTop?: number;
  bytesTab?: 'header' | 'payload' | 'page';
  sidePanel?: 'none' | 'pagemap' | 'diagnostics' | 'devices' | 'timeline';
  pageMapBlock?: string;
}

export const DEFAULT_VIEW: ViewSpec = { filter: '', sort: { column: 'time', direction: 'asc' } };

/** The state of a page in the page map; Mismatch only after a compare with a reference image. */
export const PageState = { Never: 0, Normal: 1, Zero: 2, Resent: 3, Mismatch: 4 } as const;
export type PageState = (typeof PageState)[keyof typeof PageState];

/** Page-map state names (index = state value). */
export const PAGE_STATES = ['never sent', 'normal', 'zero', 're-sent', 'mismatch'] as const;
