import type { FieldSpec, StructLayout } from '../layout/fieldLayout';
import { DEVICE_STATE_LAYOUT, MULTIFD_INIT_LAYOUT, RAM_PACKET_LAYOUT } from '../multifd/layouts';
import type { PacketSummary } from '../multifd/packetTable';

/** The value kinds of the filter language. `offsets` is a set of page offsets: comparisons match any member. */
export type FilterType = 'number' | 'string' | 'boolean' | 'offsets';

/**
 * A main-channel row as the filter sees it: a top-level record (section, CONFIGURATION, command, EOF,
 * VMDESCRIPTION), a RAM record, or a return-path message.
 */
export interface MainRowFields {
  stream: number;
  index: number;
  kind: 'main' | 'ram-record' | 'return-path';
  /** ZERO, PAGE, START, FULL, COMMAND, EOF, PONG… */
  record: string;
  /** idstr of the section the record belongs to ("ram" for RAM records). */
  section?: string;
  /** idstr of a device section (every section but RAM). */
  device?: string;
  command?: string;
  ramblock: string;
  /** RAM records: the page offset, and whether the page's data follows (PAGE, XBZRLE) or it is zero. */
  offset?: number;
  pageKind?: 'normal' | 'zero';
  sectionId?: number;
  instanceId?: number;
  versionId?: number;
  epoch: number;
  timestampNs: number;
  severity: number;
  returnPath: boolean;
}

/**
 * One row as the filter sees it: a multifd packet (its summary row, its channel, and only when needed its
 * offset[] entries), or a main-channel row (`main`; `summary` is then absent).
 */
export interface FilterRow {
  summary?: PacketSummary;
  main?: MainRowFields;
  /** MultiFDInit_t id of the packet's stream; -1 when the handshake is missing. */
  channel: number;
  /** The source uuid of the channel (MultiFDInit_t), when known. */
  uuid?: string;
  /** Undefined when not read yet: predicates on offsets then evaluate to "unknown". */
  offsets?: { normal: readonly number[]; zero: readonly number[] };
}

export type FieldValue = number | string | boolean | readonly number[] | undefined;

export interface FilterField {
  name: string;
  type: FilterType;
  description: string;
  /** The C field behind it, when it comes from a layout (`MultiFDPacket_t.zero_pages`). */
  cField?: string;
  /** True when the value needs the packet's offset[] (a header read). */
  needsOffsets?: boolean;
  get(row: FilterRow): FieldValue;
}

/**
 * How each layout field that declares a `filterName` is read from a packet row. Keyed by "<cStruct>.<name>"
 * so the filter's names always come from the layouts: a layout field whose filterName has no reader here
 * is caught by the unit test.
 */
const LAYOUT_READERS: Record<string, { type: FilterType; get(r: FilterRow): FieldValue }> = {
  'MultiFDInit_t.uuid': { type: 'string', get: (r) => r.uuid },
  'MultiFDInit_t.id': { type: 'number', get: (r) => r.channel },
  'MultiFDPacket_t.flags': { type: 'number', get: (r) => r.summary?.flags },
  'MultiFDPacket_t.pages_alloc': { type: 'number', get: (r) => r.summary?.pagesAlloc },
  'MultiFDPacket_t.normal_pages': { type: 'number', get: (r) => r.summary?.normalPages },
  'MultiFDPacket_t.next_packet_size': { type: 'number', get: (r) => r.summary?.nextPacketSize },
  'MultiFDPacket_t.packet_num': {
    type: 'number',
    get: (r) => (r.summary?.kind === 'ram' ? r.summary.packetNum : undefined),
  },
  'MultiFDPacket_t.zero_pages': { type: 'number', get: (r) => r.summary?.zeroPages },
  // Main-channel RAM records name their block too (and commands and page requests that name one).
  'MultiFDPacket_t.ramblock': {
    type: 'string',
    get: (r) => (r.summary?.kind === 'ram' ? r.summary.ramblock : r.main?.ramblock || undefined),
  },
  'MultiFDPacketDeviceState_t.flags': { type: 'number', get: (r) => r.summary?.flags },
  'MultiFDPacketDeviceState_t.idstr': {
    type: 'string',
    get: (r) => (r.summary?.kind === 'device-state' ? r.summary.ramblock : r.main?.device),
  },
  'MultiFDPacketDeviceState_t.instance_id': {
    type: 'number',
    get: (r) => (r.summary?.kind === 'device-state' ? r.summary.instanceId : r.main?.instanceId),
  },
  'MultiFDPacketDeviceState_t.next_packet_size': { type: 'number', get: (r) => r.summary?.nextPacketSize },
};

export const FILTER_LAYOUTS: readonly StructLayout[] = [MULTIFD_INIT_LAYOUT, RAM_PACKET_LAYOUT, DEVICE_STATE_LAYOUT];

function layoutFields(): FilterField[] {
  const out = new Map<string, FilterField>();
  for (const layout of FILTER_LAYOUTS) {
    for (const f of layout.fields as FieldSpec[]) {
      if (!f.filterName) continue;
      const reader = LAYOUT_READERS[`${layout.cStruct}.${f.name}`];
      if (!reader) continue;
      const existing = out.get(f.filterName);
      if (existing) {
        // The same filter name in two layouts (flags, next_packet_size): one field reading whichever applies.
        const first = existing.get;
        existing.get = (r) => first(r) ?? reader.get(r);
        existing.cField += `, ${layout.cStruct}.${f.name}`;
        continue;
      }
      out.set(f.filterName, {
        name: f.filterName,
        type: reader.type,
        description: f.meaning,
        cField: `${layout.cStruct}.${f.name}`,
        get: reader.get,
      });
    }
  }
  return [...out.values()];
}

const anyOffsets = (r: FilterRow): readonly number[] | undefined =>
  r.offsets ? [...r.offsets.normal, ...r.offsets.zero] : undefined;

/** What multifd packets and main-channel rows both have. */
const common = (r: FilterRow) => r.summary ?? r.main!;

const EXTRA_FIELDS: FilterField[] = [
  {
    name: 'stream',
    type: 'number',
    description: "stream id in the capture (the main channel's rows, return path included, have its id)",
    get: (r) => common(r).stream,
  },
  {
    name: 'index',
    type: 'number',
    description: "packet index in its stream's packet list (main channel: the row's index in its stream)",
    get: (r) => common(r).index,
  },
  {
    name: 'epoch',
    type: 'number',
    description:
      "SYNC packets earlier on the same channel (epoch k ends with the channel's (k+1)-th SYNC); main-channel RAM records: sync markers before them",
    get: (r) => common(r).epoch,
  },
  { name: 'sync', type: 'boolean', description: 'MULTIFD_FLAG_SYNC is set', get: (r) => r.summary?.sync ?? false },
  {
    name: 'method',
    type: 'string',
    description: 'compression method from flags: none, zlib, zstd, qpl, uadk, qatzip',
    get: (r) => (r.summary ? (r.summary.method ?? 'unknown') : undefined),
  },
  {
    name: 'kind',
    type: 'string',
    description:
      'row kind: "ram" or "device-state" (multifd packets), "main" (a top-level record of the main channel), "ram-record" (a RAM record of the main channel), "return-path"',
    get: (r) => common(r).kind,
  },
  {
    name: 'severity',
    type: 'number',
    description: 'worst diagnostic on the packet: 0 none, 1 info, 2 warning, 3 error',
    get: (r) => common(r).severity,
  },
  { name: 'time', type: 'number', description: 'capture timestamp in nanoseconds', get: (r) => common(r).timestampNs },
  {
    name: 'payload',
    type: 'number',
    description: 'payload bytes following the header',
    get: (r) => r.summary?.payloadLength,
  },
  {
    name: 'offset',
    type: 'offsets',
    needsOffsets: true,
    description: 'any used offset[] entry (normal or zero page); a main-channel RAM record: its page offset',
    get: anyOffsets,
  },
  {
    name: 'normal_offset',
    type: 'offsets',
    needsOffsets: true,
    description: "any offset[] entry of a normal page (data follows); a PAGE or XBZRLE record's offset",
    get: (r) => r.offsets?.normal,
  },
  {
    name: 'zero_offset',
    type: 'offsets',
    needsOffsets: true,
    description: "any offset[] entry of a zero page; a ZERO record's offset",
    get: (r) => r.offsets?.zero,
  },
  {
    name: 'record',
    type: 'string',
    description:
      'main channel: the record (ZERO, PAGE, XBZRLE, MEM_SIZE, EOS, MULTIFD_FLUSH, START, PART, END, FULL, CONFIGURATION, COMMAND, EOF, VMDESCRIPTION) or return-path message (PONG, SHUT, REQ_PAGES…)',
    get: (r) => r.main?.record,
  },
  {
    name: 'section',
    type: 'string',
    description: 'main channel: idstr of the section the record belongs to ("ram" for RAM records)',
    get: (r) => r.main?.section,
  },
  {
    name: 'device',
    type: 'string',
    description: "a device section's idstr (main channel, every section but RAM) or a device-state packet's idstr",
    get: (r) => (r.summary?.kind === 'device-state' ? r.summary.ramblock : r.main?.device),
  },
  {
    name: 'command',
    type: 'string',
    description:
      'main channel: the QEMU_VM_COMMAND (OPEN_RETURN_PATH, PING, POSTCOPY_ADVISE, PACKAGED, SWITCHOVER_START…)',
    get: (r) => r.main?.command,
  },
  { name: 'cmd', type: 'string', description: 'the same as command', get: (r) => r.main?.command },
  {
    name: 'section_id',
    type: 'number',
    description: "main channel: a section's section_id",
    get: (r) => r.main?.sectionId,
  },
  {
    name: 'version',
    type: 'number',
    description: "main channel: a START/FULL section's version_id",
    get: (r) => r.main?.versionId,
  },
  {
    name: 'returnpath',
    type: 'boolean',
    description: 'a return-path message (the destination → source direction of the main channel)',
    get: (r) => r.main?.returnPath ?? false,
  },
  {
    name: 'main',
    type: 'boolean',
    description: 'a row of the main channel (its records, commands and return path)',
    get: (r) => r.main !== undefined,
  },
];

/** Every field of the filter language: the layouts' filterName fields, then the derived ones. */
export const FILTER_FIELDS: readonly FilterField[] = (() => {
  const fields = layoutFields();
  const names = new Set(fields.map((f) => f.name));
  for (const f of EXTRA_FIELDS) if (!names.has(f.name)) fields.push(f);
  return fields;
})();

export const FILTER_FIELD_MAP: ReadonlyMap<string, FilterField> = new Map(FILTER_FIELDS.map((f) => [f.name, f]));

/** For tests: layout fields that declare a filterName but have no reader. */
export function unmappedLayoutFields(): string[] {
  const missing: string[] = [];
  for (const layout of FILTER_LAYOUTS)
    for (const f of layout.fields)
      if (f.filterName && !LAYOUT_READERS[`${layout.cStruct}.${f.name}`]) missing.push(`${layout.cStruct}.${f.name}`);
  return missing;
}
