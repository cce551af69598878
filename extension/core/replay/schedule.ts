import type { MultifdStreamIndex } from '../multifd/indexMultifdStream';
import { MainRecordKind, type MainChannelIndex } from '../mainchannel/mainChannelIndex';

/** Who writes pages, in the order the destination's result depends on. */
export const enum WriterKind {
  Multifd = 0,
  Main = 1,
  /** A window of a mapped-ram image's pages, read in place (row = window index in analysis.mappedRam). */
  MappedRam = 2,
  /** A ZERO or PAGE record of the postcopy preempt channel (row = record index in analysis.postcopy.preempt). */
  Preempt = 3,
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
  row: Uint32Array;
  epoch: Uint32Array;
  /**
   * Postcopy: the first entry after the switch. From there each page is placed once (UFFDIO_COPY refuses a page
   * that is there already), so a later copy of a placed page is not applied. Absent: no switch in the capture.
   */
  postcopyStart?: number;
}

/**
 * Built without an object per entry: a legacy capture has one main-channel record per page. Main records are
 * already in schedule order (their epochs never decrease along the stream, and within an epoch they come after
 * the multifd packets, by record index), so only the multifd packets are sorted, and the two lists are merged.
 */
export function buildSchedule(multifd: readonly MultifdStreamIndex[], main?: MainChannelIndex): ReplaySchedule {
  let packets = 0;
  for (const m of multifd) packets += m.packets.length;
  const mSource = new Int32Array(packets);
  const mRow = new Float64Array(packets);
  let nm = 0;
  multifd.forEach((m, source) => {
    const t = m.packets;
    for (let row = 0; row < t.length; row++) {
      if (t.isDeviceState(row)) continue;
      if (t.normalPages.get(row) === 0 && t.zeroPages.get(row) === 0) continue;
      mSource[nm] = source;
      mRow[nm++] = row;
    }
  });
  const epochOf = (k: number) => multifd[mSource[k]].packets.epoch.get(mRow[k]);
  const numOf = (k: number) => multifd[mSource[k]].packets.packetNum.get(mRow[k]);
  const order = new Uint32Array(nm);
  for (let k = 0; k < nm; k++) order[k] = k;
  order.sort((a, b) => epochOf(a) - epochOf(b) || numOf(a) - numOf(b) || mSource[a] - mSource[b] || mRow[a] - mRow[b]);

  const r = main?.records;
  let nr = 0;
  if (r) for (let row = 0; row < r.length; row++) if (isPageRecord(r.kind.get(row))) nr++;
  const n = nm + nr;
  const s: ReplaySchedule = {
    length: n,
    kind: new Uint8Array(n),
    source: new Int32Array(n),
    row: new Uint32Array(n),
    epoch: new Uint32Array(n),
  };
  let k = 0;
  let row = r ? nextPageRecord(r, 0) : 0;
  for (let i = 0; i < n; i++) {
    const mainEpoch = r && row < r.length ? r.epoch.get(row) : Infinity;
    if (k < nm && epochOf(order[k]) <= mainEpoch) {
      const e = order[k++];
      s.kind[i] = WriterKind.Multifd;
      s.source[i] = mSource[e];
      s.row[i] = mRow[e];
      s.epoch[i] = epochOf(e);
    } else {
      s.kind[i] = WriterKind.Main;
      s.source[i] = -1;
      s.row[i] = row;
      s.epoch[i] = mainEpoch;
      row = nextPageRecord(r!, row + 1);
    }
  }
  return s;
}

function isPageRecord(k: number): boolean {
  return k === MainRecordKind.Zero || k === MainRecordKind.Page;
}

function nextPageRecord(r: MainChannelIndex['records'], from: number): number {
  let row = from;
  while (row < r.length && !isPageRecord(r.kind.get(row))) row++;
  return row;
}
