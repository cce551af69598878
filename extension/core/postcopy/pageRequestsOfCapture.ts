import { sourceBytes, type CaptureAnalysis } from '../analysisTypes';
import type { StreamBytes } from '../capture/streamBytes';
import {
  MainRecordKind,
  type MainChannelIndex,
  type MainRecordTable,
  type RamBlockInfo,
} from '../mainchannel/mainChannelIndex';
import { MIG_CMD_PACKAGED, QEMU_VM_COMMAND } from '../mainchannel/constants';
import type { PreemptChannelIndex } from './preemptChannel';
import { readReturnPath } from '../returnpath/returnPath';
import { matchPageRequests, type ArrivalVia, type PageArrival, type PageRequestsReport } from './pageRequests';

/**
 * The page requests of an analysed capture, matched to the postcopy records that answered them. Undefined when
 * the return path carries no REQ_PAGES / REQ_PAGES_ID (no postcopy, or a destination that never faulted).
 */
export async function readPageRequests(analysis: CaptureAnalysis): Promise<PageRequestsReport | undefined> {
  const main = analysis.main;
  if (!main) return undefined;
  const s = analysis.streams.find((x) => x.id === main.streamId);
  if (!s) return undefined;
  const rp = await readReturnPath(s.stream.toSource);
  if (rp.pageRequests.length === 0) return undefined;
  const arrivals = mainChannelArrivals(main, s.stream.toDestination, analysis.pageSize);
  const preempt = analysis.postcopy?.preempt;
  if (preempt)
    arrivals.push(
      ...preemptArrivals(preempt, main.ramblocks, sourceBytes(analysis, preempt.streamId), analysis.pageSize),
    );
  return matchPageRequests(rp.pageRequests, arrivals, analysis.pageSize, capturedWithTimes(analysis));
}

/** Raw dumps carry no times; only containers that record them (.mfd, pcap) do. */
export function capturedWithTimes(analysis: Pick<CaptureAnalysis, 'capture'>): boolean {
  const f = analysis.capture.format;
  return f === 'mfd' || f === 'pcap' || f === 'pcapng';
}

/**
 * The main channel's PAGE and ZERO records sent after the switch: those after the PACKAGED command that carries
 * the device state and POSTCOPY_RUN. A capture whose section list does not reach it gives every record.
 */
export function mainChannelArrivals(main: MainChannelIndex, stream: StreamBytes, pageSize: number): PageArrival[] {
  const switchAt = postcopySwitchOffset(main);
  return recordArrivals(main.records, main.ramblocks, stream, pageSize, main.streamId, 'main', switchAt);
}

/** The preempt channel's PAGE and ZERO records: every one is a postcopy page. */
export function preemptArrivals(
  preempt: PreemptChannelIndex,
  ramblocks: readonly RamBlockInfo[],
  stream: StreamBytes,
  pageSize: number,
): PageArrival[] {
  return recordArrivals(preempt.records, ramblocks, stream, pageSize, preempt.streamId, 'preempt', 0);
}

/** Stream offset of the PACKAGED command on the main channel (the switch to postcopy); -1 when not seen. */
export function postcopySwitchOffset(main: MainChannelIndex): number {
  return main.sections.find((e) => e.type === QEMU_VM_COMMAND && e.id === MIG_CMD_PACKAGED)?.streamOffset ?? -1;
}

/**
 * The page records of a record table from stream offset `from` on, each timed by its last byte, when the page
 * is the destination's: a PAGE's last data byte, a ZERO's fill byte (both at the table's data position).
 */
export function recordArrivals(
  r: MainRecordTable,
  ramblocks: readonly RamBlockInfo[],
  stream: StreamBytes,
  pageSize: number,
  streamId: number,
  via: ArrivalVia,
  from: number,
): PageArrival[] {
  const out: PageArrival[] = [];
  // Postcopy records come last: walk back from the end to `from`.
  for (let i = r.length - 1; i >= 0; i--) {
    if (r.streamPos.get(i) < from) break;
    const kind = r.kind.get(i);
    if (kind !== MainRecordKind.Page && kind !== MainRecordKind.Zero) continue;
    const block = ramblocks[r.block.get(i)];
    const dataPos = r.dataPos(i);
    if (!block || dataPos < 0) continue;
    const lastByte = kind === MainRecordKind.Page ? dataPos + pageSize - 1 : dataPos;
    out.push({
      ramblock: block.name,
      offset: r.offset.get(i),
      timeNs: stream.timestampOf(lastByte),
      streamId,
      via,
      record: i,
    });
  }
  return out.reverse();
}
