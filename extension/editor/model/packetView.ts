import { streamCursor } from '../../core/capture/streamBytes';
import type { ReadAhead } from '../../core/capture/readAhead';
import { parseFilter } from '../../core/filter/filter';
import type { FilterRow } from '../../core/filter/fields';
import type { PacketTable } from '../../core/multifd/packetTable';
import { readPacketPages } from '../../core/multifd/packetPages';
import { isSortColumn, type SortColumn } from '../../shared/packetColumns';
import { DEFAULT_VIEW, type PacketRef, type PacketRow, type ViewInfo, type ViewSpec } from '../../shared/protocol';
import type { MainChannelRows } from './mainChannelRows';
import type { PacketIndex, PacketSource } from './packetIndex';

interface View {
  id: number;
  spec: ViewSpec;
  /** Global packet ids in view order. */
  perm: Uint32Array;
  /** Global id → position in the view (-1 filtered out); built on the first locate. */
  inverse?: Int32Array;
}

/** Per sortable column: the sort key of packet `i` of a stream (ramblock names sort by their rank). */
type SortKey = (t: PacketTable, i: number, s: PacketSource, ramblockRank: () => Map<number, number>) => number;
const SORT_KEYS: Record<SortColumn, SortKey> = {
  time: (t, i) => t.timestamp.get(i),
  stream: (_t, _i, s) => s.index.streamId,
  epoch: (t, i) => t.epoch.get(i),
  packet_num: (t, i) => t.packetNum.get(i),
  flags: (t, i) => t.flags.get(i),
  ramblock: (t, i, _s, rank) => rank().get(t.name.get(i)) ?? 0,
  normal_pages: (t, i) => t.normalPages.get(i),
  zero_pages: (t, i) => t.zeroPages.get(i),
  next_packet_size: (t, i) => t.nextPacketSize.get(i),
};

/** The same sort keys for main-channel rows: RAM records count as one page; the other columns have none (0). */
type MainSortKey = (m: MainChannelRows, i: number, rank: (name: string) => number) => number;
const MAIN_SORT_KEYS: Record<SortColumn, MainSortKey> = {
  time: (m, i) => m.timeNs(i),
  stream: (m) => m.streamId,
  epoch: (m, i) => m.epoch(i),
  packet_num: () => -1,
  flags: () => 0,
  ramblock: (m, i, rank) => rank(m.ramblock(i)),
  normal_pages: (m, i) => m.row(i, -1, 0).normalPages,
  zero_pages: (m, i) => m.row(i, -1, 0).zeroPages,
  next_packet_size: () => 0,
};

const MAX_ROWS_PER_REQUEST = 2000;

const yieldToLoop = () => new Promise<void>((r) => setImmediate(r));

/**
 * The current view of the packet list: a filter and a sort applied to every packet, kept as a permutation
 * over global packet ids. The webview reads it in ranges.
 */
export class PacketView {
  private view: View;
  private viewCounter = 0;
  /** Bumped by every setView (and by dispose): a running setView that sees a newer one gives up. */
  private generation = 0;

  constructor(private readonly packets: PacketIndex) {
    this.view = { id: ++this.viewCounter, spec: DEFAULT_VIEW, perm: this.sortedIds(this.allIds(), DEFAULT_VIEW.sort) };
  }

  get current(): { id: number; spec: ViewSpec; rowCount: number } {
    return { id: this.view.id, spec: this.view.spec, rowCount: this.view.perm.length };
  }

  /** Makes any running setView resolve as cancelled. */
  cancel(): void {
    this.generation++;
  }

  private allIds(): Uint32Array {
    const ids = new Uint32Array(this.packets.total);
    for (let i = 0; i < ids.length; i++) ids[i] = i;
    return ids;
  }

  private sortKeys(column: SortColumn): Float64Array {
    const keys = new Float64Array(this.packets.total);
    const key = SORT_KEYS[column];
    let rank: Map<number, number> | undefined;
    let byName: Map<string, number> | undefined;
    // One order over the names packets carry and those main-channel rows show.
    const nameRank = () => {
      if (!byName) {
        const names = new Set(this.packets.analysis.names.values);
        for (const n of this.packets.main?.ramblockNames() ?? []) names.add(n);
        byName = new Map([...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).map((n, r) => [n, r]));
      }
      return byName;
    };
    const ramblockRank = () => {
      if (!rank) {
        const ranks = nameRank();
        rank = new Map(this.packets.analysis.names.values.map((n, id) => [id, ranks.get(n) ?? 0]));
      }
      return rank;
    };
    const main = this.packets.main;
    if (main) {
      const mainKey = MAIN_SORT_KEYS[column];
      const rankOf = (n: string) => nameRank().get(n) ?? 0;
      for (let i = 0; i < this.packets.mainCount; i++) keys[i] = mainKey(main, i, rankOf);
    }
    for (const s of this.packets.sources) {
      const t = s.index.packets;
      for (let i = 0; i < t.length; i++) keys[s.base + i] = key(t, i, s, ramblockRank);
    }
    return keys;
  }

  private sortedIds(ids: Uint32Array, sort: ViewSpec['sort']): Uint32Array {
    const keys = this.sortKeys(sort.column);
    const dir = sort.direction === 'desc' ? -1 : 1;
    // Ties keep capture order (stream, then index), whatever the direction.
    return ids.sort((a, b) => dir * (keys[a] - keys[b]) || a - b);
  }

  private unchanged(extra: Partial<ViewInfo> = {}): ViewInfo {
    return {
      viewId: this.view.id,
      rowCount: this.view.perm.length,
      totalCount: this.packets.total,
      mainCount: this.packets.mainCount,
      ...extra,
    };
  }

  /**
   * Applies a filter and a sort. A newer call supersedes an older one still running (it then resolves with
   * `cancelled`). A filter with a syntax error leaves the current view in place and reports the error.
   */
  async setView(spec: ViewSpec, onProgress?: (message: string) => void): Promise<ViewInfo> {
    // The webview restores saved views: one saved by an older version may name a column that is gone.
    if (!isSortColumn(spec.sort.column))
      throw new Error(`the packet list cannot be sorted by "${String(spec.sort.column)}"`);
    const gen = ++this.generation;
    const parsed = parseFilter(spec.filter);
    if (!parsed.ok) return this.unchanged({ error: parsed.error });
    const f = parsed.filter;
    const total = this.packets.total;
    let ids: Uint32Array;
    if (!f.text) ids = this.allIds();
    else {
      const keep = new Uint32Array(total);
      let n = 0;
      const undecided: number[] = [];
      for (let g = 0; g < total; g++) {
        const r = f.test(this.filterRow(g));
        if (r === true) keep[n++] = g;
        else if (r === undefined) undecided.push(g);
        if ((g & 0x3fff) === 0x3fff) {
          await yieldToLoop();
          if (gen !== this.generation) return this.unchanged({ cancelled: true });
        }
      }
      // Only rows the other conditions left open need their header (offset[]) read; they come in stream
      // order, so one read-ahead window per stream serves many headers.
      const cursors = new Map<PacketSource, ReadAhead>();
      for (let j = 0; j < undecided.length; j++) {
        const g = undecided[j];
        const s = this.packets.sourceOfId(g);
        let cursor = cursors.get(s);
        if (!cursor) cursors.set(s, (cursor = streamCursor(s.bytes)));
        const row = await this.filterRowWithOffsets(g, cursor);
        if (f.test(row) === true) keep[n++] = g;
        if ((j & 0x3ff) === 0x3ff) {
          onProgress?.(`filtering: read ${j + 1} of ${undecided.length} packet headers`);
          await yieldToLoop();
          if (gen !== this.generation) return this.unchanged({ cancelled: true });
        }
      }
      ids = keep.slice(0, n);
      if (undecided.length) ids.sort();
    }
    const perm = this.sortedIds(ids, spec.sort);
    if (gen !== this.generation) return this.unchanged({ cancelled: true });
    this.view = { id: ++this.viewCounter, spec, perm };
    return { viewId: this.view.id, rowCount: perm.length, totalCount: total, mainCount: this.packets.mainCount };
  }

  /** A row for the filter: a multifd packet without its offsets, or a main-channel row with its page offset. */
  private filterRow(g: number): FilterRow {
    const main = this.packets.main;
    if (main && this.packets.isMain(g)) {
      const m = main.filterFields(g);
      return { main: m, channel: -1, offsets: main.pageOffsets(g) };
    }
    const s = this.packets.sourceOfId(g);
    return { summary: s.index.packets.row(g - s.base), channel: s.channel, uuid: s.uuid };
  }

  private async filterRowWithOffsets(g: number, cursor: ReadAhead): Promise<FilterRow> {
    const s = this.packets.sourceOfId(g);
    const row = g - s.base;
    const { normalOffsets, zeroOffsets } = await readPacketPages(
      (o, n) => cursor.bytes(o, n),
      s.index.packets,
      row,
      this.packets.analysis.pageSize,
    );
    return {
      summary: s.index.packets.row(row),
      channel: s.channel,
      uuid: s.uuid,
      offsets: { normal: normalOffsets, zero: zeroOffsets },
    };
  }

  /** Rows [start, start+count) of the current view (at most 2000). */
  rows(start: number, count: number): { viewId: number; start: number; rows: PacketRow[] } {
    const perm = this.view.perm;
    const a = Math.max(0, Math.min(start, perm.length));
    const b = Math.max(a, Math.min(perm.length, a + Math.min(count, MAX_ROWS_PER_REQUEST)));
    const rows: PacketRow[] = [];
    for (let i = a; i < b; i++) rows.push(this.packets.rowOf(perm[i], i));
    return { viewId: this.view.id, start: a, rows };
  }

  /** Position of a packet in the current view, -1 when filtered out. */
  locate(ref: PacketRef): number {
    const g = this.packets.globalId(ref);
    if (g < 0) return -1;
    if (!this.view.inverse) {
      const inv = new Int32Array(this.packets.total).fill(-1);
      this.view.perm.forEach((id, i) => (inv[id] = i));
      this.view.inverse = inv;
    }
    return this.view.inverse[g];
  }

  /** Global ids of the current view, in order (exports). */
  ids(): Uint32Array {
    return this.view.perm;
  }
}
