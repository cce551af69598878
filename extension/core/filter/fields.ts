import type { FieldSpec, StructLayout } from '../layout/fieldLayout';
import { DEVICE_STATE_LAYOUT, MULTIFD_INIT_LAYOUT, RAM_PACKET_LAYOUT } from '../multifd/layouts';
import type { PacketSummary } from '../multifd/packetTable';

/** The value kinds of the filter language. `offsets` is a set of page offsets: comparisons match any member. */
export type FilterType = 'number' | 'string' | 'boolean' | 'offsets';

/** One packet as the filter sees it: the summary row, its channel, and (only when needed) its offset[] entries. */
export interface FilterRow {
  summary: PacketSummary;
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
  'MultiFDPacket_t.flags': { type: 'number', get: (r) => r.summary.flags },
  'MultiFDPacket_t.pages_alloc': { type: 'number', get: (r) => r.summary.pagesAlloc },
  'MultiFDPacket_t.normal_pages': { type: 'number', get: (r) => r.summary.normalPages },
  'MultiFDPacket_t.next_packet_size': { type: 'number', get: (r) => r.summary.nextPacketSize },
  'MultiFDPacket_t.packet_num': {
    type: 'number',
    get: (r) => (r.summary.kind === 'ram' ? r.summary.packetNum : undefined),
  },
  'MultiFDPacket_t.zero_pages': { type: 'number', get: (r) => r.summary.zeroPages },
  'MultiFDPacket_t.ramblock': {
    type: 'string',
    get: (r) => (r.summary.kind === 'ram' ? r.summary.ramblock : undefined),
  },
  'MultiFDPacketDeviceState_t.flags': { type: 'number', get: (r) => r.summary.flags },
  'MultiFDPacketDeviceState_t.idstr': {
    type: 'string',
    get: (r) => (r.summary.kind === 'device-state' ? r.summary.ramblock : undefined),
  },
  'MultiFDPacketDeviceState_t.instance_id': {
    type: 'number',
    get: (r) => (r.summary.kind === 'device-state' ? r.summary.instanceId : undefined),
  },
  'MultiFDPacketDeviceState_t.next_packet_size': { type: 'number', get: (r) => r.summary.nextPacketSize },
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

const EXTRA_FIELDS: FilterField[] = [
  { name: 'stream', type: 'number', description: 'stream id in the capture', get: (r) => r.summary.stream },
  {
    name: 'index',
    type: 'number',
    description: "packet index in its stream's packet list",
    get: (r) => r.summary.index,
  },
  {
    name: 'epoch',
    type: 'number',
    description: "SYNC packets earlier on the same channel (epoch k ends with the channel's (k+1)-th SYNC)",
    get: (r) => r.summary.epoch,
  },
  { name: 'sync', type: 'boolean', description: 'MULTIFD_FLAG_SYNC is set', get: (r) => r.summary.sync },
  {
    name: 'method',
    type: 'string',
    description: 'compression method from flags: none, zlib, zstd, qpl, uadk, qatzip',
    get: (r) => r.summary.method ?? 'unknown',
  },
  { name: 'kind', type: 'string', description: 'packet kind: "ram" or "device-state"', get: (r) => r.summary.kind },
  {
    name: 'severity',
    type: 'number',
    description: 'worst diagnostic on the packet: 0 none, 1 info, 2 warning, 3 error',
    get: (r) => r.summary.severity,
  },
  { name: 'time', type: 'number', description: 'capture timestamp in nanoseconds', get: (r) => r.summary.timestampNs },
  {
    name: 'payload',
    type: 'number',
    description: 'payload bytes following the header',
    get: (r) => r.summary.payloadLength,
  },
  {
    name: 'offset',
    type: 'offsets',
    needsOffsets: true,
    description: 'any used offset[] entry (normal or zero page)',
    get: anyOffsets,
  },
  {
    name: 'normal_offset',
    type: 'offsets',
    needsOffsets: true,
    description: 'any offset[] entry of a normal page (data follows)',
    get: (r) => r.offsets?.normal,
  },
  {
    name: 'zero_offset',
    type: 'offsets',
    needsOffsets: true,
    description: 'any offset[] entry of a zero page',
    get: (r) => r.offsets?.zero,
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
