import { recordOfStep } from '../core/replay/stepRecord';
import type { CaptureAnalysis } from '../core/analysisTypes';
import type { Diagnostic } from '../core/diagnostics/diagnostic';
import type { FilterRow } from '../core/filter/fields';
import {
  MAIN_RECORD_KIND_NAMES,
  type MainChannelIndex,
  type MainRecordRow,
} from '../core/mainchannel/mainChannelIndex';
import { FLAG_SYNC } from '../core/multifd/constants';
import type { MultifdStreamIndex } from '../core/multifd/indexMultifdStream';
import { WriterKind } from '../core/replay/schedule';
import { windowPages } from '../core/capture/mappedRam/mappedRamIndex';
import type { CursorEntry } from './replayCursor';

/** A SYNC packet of one multifd channel, and the schedule index of the last entry of its epoch before it. */
export interface SyncMark {
  row: number;
  epoch: number;
  lastBefore: number;
}

/** What a schedule entry replays: a multifd packet or a main-channel RAM record. */
export type EntryOrigin =
  | { kind: 'packet'; channel: MultifdStreamIndex; stream: number; row: number }
  | { kind: 'record'; main: MainChannelIndex; record: MainRecordRow; stream: number; row: number }
  /** A window of a mapped-ram image's pages, read in place (row = window index). */
  | { kind: 'mapped-ram'; block: string; firstOffset: number; stream: number; row: number };

/**
 * What the capture says about each step of a replay, computed once at launch: which packet or record a
 * schedule entry replays, its label, the packet row the filter language sees, its diagnostics (indexed by
 * packet and record), and where each channel's SYNCs fall in the schedule. Shared by the stepping policy and
 * the presentation, so both describe an entry the same way.
 */
export class ReplayFacts {
  private readonly diagnosticsAt = new Map<string, Diagnostic[]>();
  /** Per multifd source (index into `analysis.multifd`): its SYNC packets in order. */
  readonly syncs: SyncMark[][];

  constructor(readonly analysis: CaptureAnalysis) {
    for (const d of analysis.diagnostics) {
      if (d.severity === 'info') continue;
      const key =
        d.location.packet !== undefined
          ? packetKey(d.location.stream, d.location.packet)
          : d.location.record !== undefined
            ? recordKey(d.location.stream, d.location.record)
            : undefined;
      if (!key) continue;
      const list = this.diagnosticsAt.get(key) ?? [];
      list.push(d);
      this.diagnosticsAt.set(key, list);
    }
    this.syncs = syncMarks(analysis);
  }

  get length(): number {
    return this.analysis.schedule.length;
  }

  /** The epoch of the first page write (what the view shows before anything is applied). */
  get firstEpoch(): number {
    return this.length ? this.analysis.schedule.epoch[0] : 0;
  }

  /** The epoch of the entry after `step`, undefined after the last. */
  epochAfter(step: number): number | undefined {
    return step + 1 < this.length ? this.analysis.schedule.epoch[step + 1] : undefined;
  }

  originOf(step: number): EntryOrigin {
    const a = this.analysis;
    const s = a.schedule;
    if (s.kind[step] === WriterKind.Multifd) {
      const channel = a.multifd[s.source[step]];
      return { kind: 'packet', channel, stream: channel.streamId, row: s.row[step] };
    }
    if (s.kind[step] === WriterKind.MappedRam && a.mappedRam) {
      const w = windowPages(a.mappedRam, s.row[step]);
      return {
        kind: 'mapped-ram',
        block: w.block.name,
        firstOffset: w.offsets[0] ?? 0,
        stream: a.mappedRam.streamId,
        row: s.row[step],
      };
    }
    const main = a.main;
    const rec = recordOfStep(a, step);
    if (!main || !rec) throw new Error(`replay step ${step + 1} is a RAM record, but the capture has no stream for it`);
    return { kind: 'record', main, record: rec.records.row(rec.row), stream: rec.streamId, row: rec.row };
  }

  /** The stream an entry belongs to; with none (nothing applied yet), the first multifd stream. */
  streamOf(e: CursorEntry | undefined): number {
    const a = this.analysis;
    if (!e) return a.multifd[0]?.streamId ?? a.main?.streamId ?? 0;
    return this.originOf(e.step).stream;
  }

  /** The packet row the filter language sees, for a multifd entry; undefined for a main-channel record. */
  filterRow(e: CursorEntry): FilterRow | undefined {
    const o = this.originOf(e.step);
    if (o.kind !== 'packet') return undefined;
    const m = o.channel;
    return {
      summary: m.packets.row(o.row),
      channel: m.handshake?.channelId ?? -1,
      uuid: m.handshake?.uuid,
      offsets: { normal: e.normalOffsets, zero: e.zeroOffsets },
    };
  }

  /** Errors and warnings found at analysis for the entry's packet or record, and those raised replaying it. */
  diagnosticsOf(e: CursorEntry): Diagnostic[] {
    const o = this.originOf(e.step);
    const key =
      o.kind === 'packet'
        ? packetKey(o.stream, o.row)
        : o.kind === 'record'
          ? recordKey(o.stream, o.row)
          : `m:${o.row}`;
    return [...(this.diagnosticsAt.get(key) ?? []), ...e.raised.filter((d) => d.severity !== 'info')];
  }

  /** "packet 2 of stream 2 (channel 1), packet_num 4" or "PAGE record 7 on the main channel". */
  entryLabel(e: CursorEntry): string {
    const o = this.originOf(e.step);
    if (o.kind === 'packet')
      return `packet ${o.row} of stream ${o.stream} (channel ${o.channel.handshake?.channelId ?? '?'}), packet_num ${o.channel.packets.packetNum.get(o.row)}`;
    if (o.kind === 'mapped-ram')
      return `mapped-ram pages of ${o.block} (window ${o.row}, from offset 0x${o.firstOffset.toString(16)}), read in place`;
    const on = o.stream === o.main.streamId ? 'the main channel' : `the postcopy preempt channel (stream ${o.stream})`;
    return `${MAIN_RECORD_KIND_NAMES[o.record.kind] ?? 'record'} record ${o.row} on ${on}`;
  }

  /** How many SYNCs of multifd source `source` the view has passed, `done` being the last entry applied in full. */
  syncsSeen(source: number, epoch: number, done: number): number {
    return this.syncs[source].filter((x) => x.epoch < epoch || (x.epoch === epoch && x.lastBefore <= done)).length;
  }
}

function packetKey(stream: number | undefined, packet: number): string {
  return `p:${stream}:${packet}`;
}

/** Records are keyed by stream too: the main and the preempt channel number their records apart. */
function recordKey(stream: number | undefined, record: number): string {
  return `r:${stream}:${record}`;
}

function syncMarks(a: CaptureAnalysis): SyncMark[][] {
  const s = a.schedule;
  const at = new Map<string, number>();
  for (let i = 0; i < s.length; i++) if (s.kind[i] === WriterKind.Multifd) at.set(`${s.source[i]}:${s.row[i]}`, i);
  return a.multifd.map((m, source) => {
    const t = m.packets;
    const out: SyncMark[] = [];
    let last = -1;
    let lastEpoch = -1;
    for (let row = 0; row < t.length; row++) {
      const epoch = t.epoch.get(row);
      if (epoch !== lastEpoch) {
        last = -1;
        lastEpoch = epoch;
      }
      const idx = at.get(`${source}:${row}`);
      if (idx !== undefined) last = idx;
      if (t.flags.get(row) & FLAG_SYNC) out.push({ row, epoch, lastBefore: last });
    }
    return out;
  });
}
