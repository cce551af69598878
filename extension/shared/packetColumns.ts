import type { PacketRow } from './packetRow';

/**
 * One column of the packet list and of its export. Declared once here: the webview shows the columns that
 * have a label, the host sorts by the sortable ones (from its packet table), and the export writes every
 * column under its export name. Header fields use QEMU's names (MultiFDPacket_t).
 */
export interface PacketColumn {
  readonly key: string;
  /** Header of the list column; absent for columns only the export has. */
  readonly label?: string;
  /** Tooltip of the list header. */
  readonly describe?: string;
  /** The list can sort by it (the view's `sort.column` is then this key). */
  readonly sortable: boolean;
  /** Column name in CSV, member name in JSON. */
  readonly exportName: string;
  exportValue(r: PacketRow): string | number | boolean;
}

const SEVERITY_NAMES = ['none', 'info', 'warning', 'error'] as const;

/** In list and export order. */
export const PACKET_COLUMNS = [
  {
    key: 'stream',
    label: 'Stream / ch',
    describe: 'capture stream and multifd channel id',
    sortable: true,
    exportName: 'stream',
    exportValue: (r) => r.stream,
  },
  { key: 'channel', sortable: false, exportName: 'channel', exportValue: (r) => r.channel },
  { key: 'index', sortable: false, exportName: 'index', exportValue: (r) => r.index },
  { key: 'kind', sortable: false, exportName: 'kind', exportValue: (r) => r.kind },
  {
    key: 'epoch',
    label: 'Epoch',
    describe: 'SYNC epoch on the channel',
    sortable: true,
    exportName: 'epoch',
    exportValue: (r) => r.epoch,
  },
  {
    key: 'packet_num',
    label: 'packet_num',
    describe: 'MultiFDPacket_t packet_num',
    sortable: true,
    exportName: 'packet_num',
    exportValue: (r) => r.packetNum,
  },
  {
    key: 'flags',
    label: 'Flags',
    describe: 'flags: SYNC and compression method',
    sortable: true,
    exportName: 'flags',
    exportValue: (r) => '0x' + r.flags.toString(16),
  },
  { key: 'flags_text', sortable: false, exportName: 'flags_text', exportValue: (r) => r.flagsText },
  { key: 'sync', sortable: false, exportName: 'sync', exportValue: (r) => r.sync },
  { key: 'method', sortable: false, exportName: 'method', exportValue: (r) => r.method },
  {
    key: 'ramblock',
    label: 'ramblock',
    describe: 'ramblock idstr (device-state: idstr)',
    sortable: true,
    exportName: 'ramblock',
    exportValue: (r) => r.ramblock,
  },
  {
    key: 'normal_pages',
    label: 'normal_pages',
    describe: 'MultiFDPacket_t normal_pages: pages whose data follows',
    sortable: true,
    exportName: 'normal_pages',
    exportValue: (r) => r.normalPages,
  },
  {
    key: 'zero_pages',
    label: 'zero_pages',
    describe: 'MultiFDPacket_t zero_pages: pages the destination zeroes',
    sortable: true,
    exportName: 'zero_pages',
    exportValue: (r) => r.zeroPages,
  },
  {
    key: 'next_packet_size',
    label: 'next_packet_size',
    describe: 'MultiFDPacket_t next_packet_size',
    sortable: true,
    exportName: 'next_packet_size',
    exportValue: (r) => r.nextPacketSize,
  },
  {
    key: 'time',
    label: 'Time (s)',
    describe: 'seconds since the first packet',
    sortable: true,
    exportName: 'time_ns',
    exportValue: (r) => r.timeNs,
  },
  { key: 'severity', sortable: false, exportName: 'severity', exportValue: (r) => SEVERITY_NAMES[r.severity] },
] as const satisfies readonly PacketColumn[];

type Declared = (typeof PACKET_COLUMNS)[number];
/** Columns the view can be sorted by. */
export type SortColumn = Extract<Declared, { sortable: true }>['key'];
/** Columns the packet list shows. */
export type ListColumn = Extract<Declared, { label: string }>['key'];

export const SORT_COLUMNS: readonly SortColumn[] = PACKET_COLUMNS.filter(
  (c): c is Extract<Declared, { sortable: true }> => c.sortable,
).map((c) => c.key);
export const LIST_COLUMNS: readonly Extract<Declared, { label: string }>[] = PACKET_COLUMNS.filter(
  (c): c is Extract<Declared, { label: string }> => 'label' in c,
);

export function isSortColumn(v: unknown): v is SortColumn {
  return typeof v === 'string' && (SORT_COLUMNS as readonly string[]).includes(v);
}
