import type { CaptureAnalysis } from '../../core/analysisTypes';
import type { StreamBytes } from '../../core/capture/streamBytes';
import type { DiagnosticLocation } from '../../core/diagnostics/diagnostic';
import type { MainRowFields } from '../../core/filter/fields';
import {
  QEMU_VM_SECTION_END,
  QEMU_VM_SECTION_FULL,
  QEMU_VM_SECTION_PART,
  QEMU_VM_SECTION_START,
  RAM_SECTION_IDSTR,
} from '../../core/mainchannel/constants';
import type { MainChannelIndex } from '../../core/mainchannel/mainChannelTypes';
import { MAIN_RECORD_KIND_NAMES, MainRecordKind } from '../../core/mainchannel/recordTable';
import type { SectionList, SectionListRow } from '../../core/mainchannel/sectionList';
import type { PacketRow, RowSeverity } from '../../shared/packetRow';

/** What a main row is: a top-level record, a RAM record, a return-path message. */
export enum MainRowKind {
  TopLevel = 0,
  RamRecord = 1,
  ReturnPath = 2,
}

const KIND_NAMES = ['main', 'ram-record', 'return-path'] as const;
const NO_OFFSETS: readonly number[] = [];

/** Records that carry a page offset (MEM_SIZE carries the RAM size there; EOS and FLUSH nothing). */
function writesPage(k: MainRecordKind): boolean {
  return (
    k === MainRecordKind.Zero ||
    k === MainRecordKind.Page ||
    k === MainRecordKind.Xbzrle ||
    k === MainRecordKind.CompressPage
  );
}
const SEVERITY_RANK = { info: 1, warning: 2, error: 3 } as const;
const DEVICE_TYPES = new Set([QEMU_VM_SECTION_START, QEMU_VM_SECTION_PART, QEMU_VM_SECTION_END, QEMU_VM_SECTION_FULL]);

/**
 * The main channel's rows of the packet list, derived from what the core keeps: the section list (a few
 * hundred top-level records, commands with their arguments) and the compact RAM record table (one per page in
 * a legacy capture: 10^5 and more). Nothing is kept per record but one u32 of stream order and one severity
 * byte; a row is built only when asked for.
 *
 * Row i in [0, top + ram) is in stream order: `order[i] < top` is a section-list row, else a RAM record
 * (`order[i] - top`). Rows after those are the return path's messages, in their own direction's order.
 */
export class MainChannelRows {
  readonly streamId: number;
  readonly top: number;
  readonly ram: number;
  readonly returnPath: number;
  readonly count: number;
  private readonly order: Uint32Array;
  private readonly severity: Uint8Array;
  private readonly toDst: StreamBytes;
  private readonly toSrc: StreamBytes;
  private readonly timed: boolean;
  /** PING command offset → the PONG's offset and time; PONG offset → the PING it answers. */
  private readonly pongOf = new Map<number, { offset: number; timeNs?: number }>();

  constructor(
    analysis: CaptureAnalysis,
    private readonly main: MainChannelIndex,
    readonly list: SectionList,
  ) {
    const s = analysis.streams.find((x) => x.id === main.streamId);
    if (!s) throw new Error(`the analysis has no stream ${main.streamId} for its main channel`);
    this.streamId = main.streamId;
    this.toDst = s.stream.toDestination;
    this.toSrc = s.stream.toSource;
    const f = analysis.capture.format;
    // Raw dumps carry no times (as the section list says); only .mfd and pcap record them.
    this.timed = f === 'mfd' || f === 'pcap' || f === 'pcapng';
    this.top = list.rows.length;
    this.ram = main.records.length;
    this.returnPath = list.returnPath.messages.length;
    this.count = this.top + this.ram + this.returnPath;
    this.order = this.merge();
    for (const p of list.pings) if (p.pong) this.pongOf.set(p.offset, p.pong);
    this.severity = new Uint8Array(this.count);
    for (const d of analysis.diagnostics) {
      const i = this.rowOfLocation(d.location);
      if (i !== undefined) this.severity[i] = Math.max(this.severity[i], SEVERITY_RANK[d.severity]);
    }
  }

  /** Section-list rows and RAM records merged by stream offset (both are in stream order already). */
  private merge(): Uint32Array {
    const { top, ram } = this;
    const rows = this.list.rows;
    const pos = this.main.records.streamPos;
    const out = new Uint32Array(top + ram);
    let a = 0;
    let b = 0;
    for (let k = 0; k < out.length; k++) {
      if (b >= ram || (a < top && rows[a].start <= pos.get(b))) out[k] = a++;
      else out[k] = top + b++;
    }
    return out;
  }

  kindOf(i: number): MainRowKind {
    if (i >= this.top + this.ram) return MainRowKind.ReturnPath;
    return this.order[i] < this.top ? MainRowKind.TopLevel : MainRowKind.RamRecord;
  }

  /** Index of row i in its own table (section list, record table, return-path messages). */
  slotOf(i: number): number {
    if (i >= this.top + this.ram) return i - this.top - this.ram;
    const v = this.order[i];
    return v < this.top ? v : v - this.top;
  }

  topRow(i: number): SectionListRow {
    return this.list.rows[this.slotOf(i)];
  }

  /** Where row i starts, in its direction's stream (the return path's for return-path rows). */
  streamOffset(i: number): number {
    switch (this.kindOf(i)) {
      case MainRowKind.TopLevel:
        return this.list.rows[this.slotOf(i)].start;
      case MainRowKind.RamRecord:
        return this.main.records.streamPos.get(this.slotOf(i));
      default:
        return this.list.returnPath.messages[this.slotOf(i)].offset;
    }
  }

  /** Where row i ends: the next row of the main stream (or its section's end), the message's end. */
  streamEnd(i: number): number {
    const k = this.kindOf(i);
    if (k === MainRowKind.ReturnPath) {
      const m = this.list.returnPath.messages[this.slotOf(i)];
      return m.offset + 4 + m.length;
    }
    if (k === MainRowKind.TopLevel) {
      const r = this.list.rows[this.slotOf(i)];
      // A section's row runs to the next top-level record; RAM records inside it are rows of their own.
      return i + 1 < this.top + this.ram ? Math.min(r.end, this.streamOffset(i + 1)) : r.end;
    }
    const next = i + 1 < this.top + this.ram ? this.streamOffset(i + 1) : this.main.bytes;
    return next;
  }

  bytesOf(i: number): StreamBytes {
    return this.kindOf(i) === MainRowKind.ReturnPath ? this.toSrc : this.toDst;
  }

  /** Capture time (ns, absolute); 0 for captures without times. */
  timeNs(i: number): number {
    if (!this.timed) return 0;
    if (this.kindOf(i) === MainRowKind.ReturnPath)
      return this.list.returnPath.messages[this.slotOf(i)].timeNs ?? this.toSrc.timestampOf(this.streamOffset(i));
    return this.toDst.timestampOf(this.streamOffset(i));
  }

  /** The earliest time of a main row, Infinity without times. */
  firstTime(): number {
    if (!this.timed || !this.count) return Infinity;
    let t = this.top + this.ram ? this.timeNs(0) : Infinity;
    if (this.returnPath) t = Math.min(t, this.timeNs(this.top + this.ram));
    return t;
  }

  recordName(i: number): string {
    switch (this.kindOf(i)) {
      case MainRowKind.TopLevel:
        return this.topRow(i).kind;
      case MainRowKind.RamRecord:
        return MAIN_RECORD_KIND_NAMES[this.main.records.kind.get(this.slotOf(i)) as MainRecordKind] ?? 'unknown';
      default:
        return this.list.returnPath.messages[this.slotOf(i)].name;
    }
  }

  /** The section (idstr) a row belongs to: its own for section headers, "ram" for RAM records. */
  section(i: number): string | undefined {
    const k = this.kindOf(i);
    if (k === MainRowKind.RamRecord) return RAM_SECTION_IDSTR;
    if (k === MainRowKind.TopLevel) {
      const r = this.topRow(i);
      return r.command ? undefined : r.idstr;
    }
    return undefined;
  }

  /** A device's idstr for the device sections' rows (every section but RAM). */
  device(i: number): string | undefined {
    if (this.kindOf(i) !== MainRowKind.TopLevel) return undefined;
    const r = this.topRow(i);
    if (r.command || r.sectionId === undefined || r.idstr === undefined || r.idstr === RAM_SECTION_IDSTR)
      return undefined;
    return DEVICE_TYPES.has(SECTION_TYPE_OF[r.kind] ?? -1) ? r.idstr : undefined;
  }

  command(i: number): string | undefined {
    return this.kindOf(i) === MainRowKind.TopLevel ? this.topRow(i).command?.name : undefined;
  }

  /** RAM records: the block; commands naming one (RECV_BITMAP, POSTCOPY_RAM_DISCARD); return-path requests. */
  ramblock(i: number): string {
    const j = this.slotOf(i);
    switch (this.kindOf(i)) {
      case MainRowKind.RamRecord: {
        const b = this.main.records.block.get(j);
        return b >= 0 ? (this.main.ramblocks[b]?.name ?? '') : '';
      }
      case MainRowKind.TopLevel: {
        const r = this.list.rows[j];
        const a = r.command?.arguments.ramblock;
        return typeof a === 'string' ? a : r.command ? '' : (r.idstr ?? '');
      }
      default: {
        const b = this.list.returnPath.messages[j].fields.ramblock;
        return typeof b === 'string' ? b : '';
      }
    }
  }

  /** RAM records that write a page: its offset in the block; undefined for the other rows. */
  offset(i: number): number | undefined {
    if (this.kindOf(i) !== MainRowKind.RamRecord) return undefined;
    const j = this.slotOf(i);
    return writesPage(this.main.records.kind.get(j) as MainRecordKind) ? this.main.records.offset.get(j) : undefined;
  }

  ramKind(i: number): MainRecordKind | undefined {
    return this.kindOf(i) === MainRowKind.RamRecord
      ? (this.main.records.kind.get(this.slotOf(i)) as MainRecordKind)
      : undefined;
  }

  epoch(i: number): number {
    return this.kindOf(i) === MainRowKind.RamRecord ? this.main.records.epoch.get(this.slotOf(i)) : 0;
  }

  severityOf(i: number): RowSeverity {
    return this.severity[i] as RowSeverity;
  }

  /** The flags column's text: the record, and what it says. */
  describe(i: number): string {
    const j = this.slotOf(i);
    switch (this.kindOf(i)) {
      case MainRowKind.RamRecord:
        return this.recordName(i);
      case MainRowKind.TopLevel: {
        const r = this.list.rows[j];
        if (r.command) {
          const args = argumentsText(r.command.arguments);
          const pong = r.command.name === 'PING' ? this.pongOf.get(r.start) : undefined;
          const answered = pong ? `; PONG at return-path offset ${pong.offset}${this.timeText(pong.timeNs)}` : '';
          return `COMMAND ${r.command.name}${args ? ` (${args})` : ''}${answered}`;
        }
        if (r.sectionId === undefined) return r.kind;
        const head = r.instanceId !== undefined ? `, instance ${r.instanceId}, version ${r.versionId}` : '';
        return `${r.kind} section ${r.sectionId}${head}`;
      }
      default: {
        const m = this.list.returnPath.messages[j];
        const args = argumentsText(m.fields);
        const ping = m.answers !== undefined ? `; answers the PING at main-channel offset ${m.answers}` : '';
        return `${m.name}${args ? ` (${args})` : ''}${ping}`;
      }
    }
  }

  private timeText(t: number | undefined): string {
    return this.timed && t !== undefined ? ` (${((t - this.firstTime()) / 1e9).toFixed(6)} s)` : '';
  }

  /** The list row for main row i; `t0` is the capture's first time, `viewIndex` its place in the view. */
  row(i: number, viewIndex: number, t0: number): PacketRow {
    const k = this.kindOf(i);
    if (k === MainRowKind.RamRecord) return this.ramRow(i, viewIndex, t0);
    return {
      stream: this.streamId,
      index: i,
      viewIndex,
      channel: -1,
      kind: KIND_NAMES[k],
      epoch: 0,
      packetNum: -1,
      flags: 0,
      flagsText: this.describe(i),
      sync: false,
      method: '',
      ramblock: this.ramblock(i),
      normalPages: 0,
      zeroPages: 0,
      nextPacketSize: 0,
      timeNs: this.timed ? this.timeNs(i) - t0 : 0,
      severity: this.severityOf(i),
      record: this.recordName(i),
      section: this.section(i),
      command: this.command(i),
      streamOffset: this.streamOffset(i),
    };
  }

  /** A RAM record's row: the hot case (10^5 and more of them), read straight from the record table. */
  private ramRow(i: number, viewIndex: number, t0: number): PacketRow {
    const j = this.order[i] - this.top;
    const t = this.main.records;
    const rk = t.kind.get(j) as MainRecordKind;
    const name = MAIN_RECORD_KIND_NAMES[rk] ?? 'unknown';
    const b = t.block.get(j);
    const pos = t.streamPos.get(j);
    return {
      stream: this.streamId,
      index: i,
      viewIndex,
      channel: -1,
      kind: 'ram-record',
      epoch: t.epoch.get(j),
      packetNum: -1,
      flags: 0,
      flagsText: name,
      sync: rk === MainRecordKind.Eos || rk === MainRecordKind.Flush,
      method: 'none',
      ramblock: b >= 0 ? (this.main.ramblocks[b]?.name ?? '') : '',
      normalPages: rk === MainRecordKind.Page || rk === MainRecordKind.Xbzrle ? 1 : 0,
      zeroPages: rk === MainRecordKind.Zero ? 1 : 0,
      nextPacketSize: 0,
      timeNs: this.timed ? this.toDst.timestampOf(pos) - t0 : 0,
      severity: this.severity[i] as RowSeverity,
      record: name,
      section: RAM_SECTION_IDSTR,
      offset: writesPage(rk) ? t.offset.get(j) : undefined,
      streamOffset: pos,
    };
  }

  /** What the filter reads of main row i. */
  filterFields(i: number): MainRowFields {
    const k = this.kindOf(i);
    if (k === MainRowKind.RamRecord) return this.ramFilterFields(i);
    const rk = this.ramKind(i);
    const offset = this.offset(i);
    const top = k === MainRowKind.TopLevel ? this.topRow(i) : undefined;
    return {
      stream: this.streamId,
      index: i,
      kind: KIND_NAMES[k],
      record: this.recordName(i),
      section: this.section(i),
      device: this.device(i),
      command: this.command(i),
      // A section's idstr is its own field (section, device), not a ramblock.
      ramblock: top && !top.command ? '' : this.ramblock(i),
      offset,
      pageKind:
        rk === MainRecordKind.Zero
          ? 'zero'
          : rk === MainRecordKind.Page || rk === MainRecordKind.Xbzrle
            ? 'normal'
            : undefined,
      instanceId: top?.instanceId,
      versionId: top?.versionId,
      sectionId: top?.command ? undefined : top?.sectionId,
      epoch: this.epoch(i),
      timestampNs: this.timeNs(i),
      severity: this.severityOf(i),
      returnPath: k === MainRowKind.ReturnPath,
    };
  }

  /** A RAM record for the filter: its fields read from the record table only when the filter asks for them. */
  private ramFilterFields(i: number): MainRowFields {
    return new RamRecordFields(this, this.main, i, this.order[i] - this.top);
  }

  /** The page a row writes, as the filter's offset sets (read only when the filter asks for them). */
  pageOffsets(i: number): { readonly normal: readonly number[]; readonly zero: readonly number[] } {
    return new PageOffsets(this, i);
  }

  pageKindOf(i: number): 'normal' | 'zero' | undefined {
    const rk = this.ramKind(i);
    if (rk === MainRecordKind.Zero) return 'zero';
    return rk === MainRecordKind.Page || rk === MainRecordKind.Xbzrle ? 'normal' : undefined;
  }

  /** The RAM record's row (record index in the record table). */
  rowOfRecord(record: number): number | undefined {
    if (!Number.isInteger(record) || record < 0 || record >= this.ram) return undefined;
    // Rows before it: the records before it and the top-level rows that start before it.
    const at = this.main.records.streamPos.get(record);
    const rows = this.list.rows;
    let lo = 0;
    let hi = rows.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (rows[mid].start <= at) lo = mid + 1;
      else hi = mid;
    }
    return record + lo;
  }

  /** The row of section-list row `slot`: after it come the RAM records that start before it (a row starts first at a tie). */
  rowOfTop(slot: number): number {
    const at = this.list.rows[slot].start;
    const pos = this.main.records.streamPos;
    let lo = 0;
    let hi = this.ram;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (pos.get(mid) < at) lo = mid + 1;
      else hi = mid;
    }
    return slot + lo;
  }

  /** The last main-stream row starting at or before a stream offset. */
  rowAtOffset(pos: number): number | undefined {
    let lo = 0;
    let hi = this.top + this.ram;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.streamOffset(mid) <= pos) lo = mid + 1;
      else hi = mid;
    }
    return lo > 0 ? lo - 1 : undefined;
  }

  /** The row a diagnostic of the main stream points at: its RAM record, else the record holding its offset. */
  rowOfLocation(l: DiagnosticLocation): number | undefined {
    if (l.stream !== this.streamId || l.packet !== undefined) return undefined;
    if (l.record !== undefined) return this.rowOfRecord(l.record);
    if (l.streamOffset !== undefined) return this.rowAtOffset(l.streamOffset);
    return undefined;
  }

  /** Every string the ramblock column can show, for sorting by it. */
  ramblockNames(): string[] {
    const out = new Set<string>(this.main.ramblocks.map((b) => b.name));
    for (const r of this.list.rows) out.add(r.idstr ?? '');
    out.add('');
    for (const m of this.list.returnPath.messages)
      if (typeof m.fields.ramblock === 'string') out.add(m.fields.ramblock);
    return [...out];
  }
}

/** A row's page as the filter's offset sets, built only when a test reads them. */
class PageOffsets {
  constructor(
    private readonly rows: MainChannelRows,
    private readonly i: number,
  ) {}
  get normal(): readonly number[] {
    return this.rows.pageKindOf(this.i) === 'normal' ? [this.rows.offset(this.i)!] : NO_OFFSETS;
  }
  get zero(): readonly number[] {
    return this.rows.pageKindOf(this.i) === 'zero' ? [this.rows.offset(this.i)!] : NO_OFFSETS;
  }
}

/** A RAM record as the filter sees it (the filter visits every row; most tests read one or two fields). */
class RamRecordFields implements MainRowFields {
  readonly kind = 'ram-record';
  readonly section = RAM_SECTION_IDSTR;
  readonly returnPath = false;
  constructor(
    private readonly rows: MainChannelRows,
    private readonly ix: MainChannelIndex,
    readonly index: number,
    private readonly j: number,
  ) {}
  get stream(): number {
    return this.rows.streamId;
  }
  private get rk(): MainRecordKind {
    return this.ix.records.kind.get(this.j) as MainRecordKind;
  }
  get record(): string {
    return MAIN_RECORD_KIND_NAMES[this.rk] ?? 'unknown';
  }
  get ramblock(): string {
    const b = this.ix.records.block.get(this.j);
    return b >= 0 ? (this.ix.ramblocks[b]?.name ?? '') : '';
  }
  get offset(): number | undefined {
    return writesPage(this.rk) ? this.ix.records.offset.get(this.j) : undefined;
  }
  get pageKind(): 'normal' | 'zero' | undefined {
    const rk = this.rk;
    if (rk === MainRecordKind.Zero) return 'zero';
    return rk === MainRecordKind.Page || rk === MainRecordKind.Xbzrle ? 'normal' : undefined;
  }
  get epoch(): number {
    return this.ix.records.epoch.get(this.j);
  }
  get timestampNs(): number {
    return this.rows.timeNs(this.index);
  }
  get severity(): number {
    return this.rows.severityOf(this.index);
  }
}

const SECTION_TYPE_OF: Record<string, number> = {
  START: QEMU_VM_SECTION_START,
  PART: QEMU_VM_SECTION_PART,
  END: QEMU_VM_SECTION_END,
  FULL: QEMU_VM_SECTION_FULL,
};

/** Command arguments and return-path fields, short: `value 1`, `ramblock "pc.ram"`, `ranges 3`. */
function argumentsText(a: Record<string, unknown>): string {
  return Object.entries(a)
    .map(([k, v]) => {
      if (Array.isArray(v)) return `${k} ${v.length}`;
      if (typeof v === 'string') return `${k} ${JSON.stringify(v)}`;
      if (typeof v === 'bigint') return `${k} 0x${v.toString(16)}`;
      return `${k} ${typeof v === 'number' && v > 9 ? `0x${v.toString(16)}` : String(v)}`;
    })
    .join(', ');
}
