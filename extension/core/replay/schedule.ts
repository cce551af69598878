import type { MultifdStreamIndex } from '../multifd/indexMultifdStream';
import { MainRecordKind, type MainChannelIndex } from '../mainchannel/mainChannelIndex';

/** Who writes pages, in the order the destination's result depends on. */
export const enum WriterKind {
  Multifd = 0,
  Main = 1,
}

/**
 * The order in which page writes are applied, following QEMU's destination (docs/wire/sync-and-replay.md): epoch k of every
 * channel (its packets up to and including its k-th SYNC) before any epoch k+1; main-channel ZERO/PAGE records
 * join the epoch given by the sync markers (MULTIFD_FLUSH, or EOS in per-section mode) before them. Within an
 * epoch pages should be disjoint; packet_num order makes the result deterministic when they are not (7.2).
 * Entry i is a multifd packet (source = index into the multifd list, row = packet index) or a main record
 * (source = -1, row = record index).
 */
export interface ReplaySchedule {
  length: number;
  kind: Uint8Array;
  source: Int32Array;
  row: Float64Array;
  epoch: Uint32Array;
}

export function buildSchedule(multifd: readonly MultifdStreamIndex[], main?: MainChannelIndex): ReplaySchedule {
  const entries: { kind: WriterKind; source: number; row: number; epoch: number; num: number }[] = [];
  multifd.forEach((m, source) => {
    const t = m.packets;
    for (let row = 0; row < t.length; row++) {
      if (t.isDeviceState(row)) continue;
      if (t.normalPages.get(row) === 0 && t.zeroPages.get(row) === 0) continue;
      entries.push({ kind: WriterKind.Multifd, source, row, epoch: t.epoch.get(row), num: t.packetNum.get(row) });
    }
  });
  if (main) {
    const r = main.records;
    for (let row = 0; row < r.length; row++) {
      const k = r.kind.get(row);
      if (k !== MainRecordKind.Zero && k !== MainRecordKind.Page) continue;
      entries.push({ kind: WriterKind.Main, source: -1, row, epoch: r.epoch.get(row), num: row });
    }
  }
  entries.sort((a, b) => a.epoch - b.epoch || a.kind - b.kind || a.num - b.num || a.source - b.source || a.row - b.row);
  const n = entries.length;
  const s: ReplaySchedule = { length: n, kind: new Uint8Array(n), source: new Int32Array(n), row: new Float64Array(n), epoch: new Uint32Array(n) };
  entries.forEach((e, i) => {
    s.kind[i] = e.kind;
    s.source[i] = e.source;
    s.row[i] = e.row;
    s.epoch[i] = e.epoch;
  });
  return s;
}
