import type { CaptureAnalysis } from '../analysisTypes';
import type { StreamBytes } from '../capture/streamBytes';
import { MainRecordKind, type MainChannelIndex } from '../mainchannel/mainChannelIndex';
import { readReturnPath } from '../returnpath/returnPath';
import { matchPageRequests, type PageArrival, type PageRequestsReport } from './pageRequests';

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
  return matchPageRequests(rp.pageRequests, arrivals, analysis.pageSize, capturedWithTimes(analysis));
}

/** Raw dumps carry no times; only containers that record them (.mfd, pcap) do. */
function capturedWithTimes(analysis: CaptureAnalysis): boolean {
  const f = analysis.capture.format;
  return f === 'mfd' || f === 'pcap' || f === 'pcapng';
}

/**
 * The main channel's PAGE and ZERO records sent after the switch: those after the PACKAGED command that carries
 * the device state and POSTCOPY_RUN. A capture whose section list does not reach it gives every record.
 */
export function mainChannelArrivals(main: MainChannelIndex, stream: StreamBytes, pageSize: number): PageArrival[] {
  const switchAt = main.sections.find((e) => e.idstr === 'PACKAGED')?.streamOffset ?? -1;
  const r = main.records;
  const out: PageArrival[] = [];
  // Postcopy records come last: walk back from the end to the switch.
  for (let i = r.length - 1; i >= 0; i--) {
    const pos = r.streamPos.get(i);
    if (pos < switchAt) break;
    const kind = r.kind.get(i);
    if (kind !== MainRecordKind.Page && kind !== MainRecordKind.Zero) continue;
    const block = main.ramblocks[r.block.get(i)];
    if (!block) continue;
    const dataPos = r.dataPos(i);
    // The page is the destination's once its last byte is in: a PAGE's data end, a ZERO's fill byte.
    const lastByte = kind === MainRecordKind.Page && dataPos >= 0 ? dataPos + pageSize - 1 : pos + 8;
    out.push({
      ramblock: block.name,
      offset: r.offset.get(i),
      timeNs: stream.timestampOf(lastByte),
      streamId: main.streamId,
      via: 'main',
      record: i,
    });
  }
  return out.reverse();
}
