import type { DiagnosticSink } from './diagnostic';
import type { MultifdStreamIndex } from '../multifd/indexMultifdStream';
import type { MainChannelIndex } from '../mainchannel/mainChannelIndex';
import type { CaptureStream } from '../capture/capture';
import { WriterKind, type ReplaySchedule } from '../replay/schedule';
import { headerReader, readPacketPages } from '../multifd/packetPages';
import { FLAG_SYNC, type CompressionMethod } from '../multifd/constants';
import { rangeFits, type Version } from '../multifd/versionHints';

/**
 * Lints for sender and receiver bugs of known QEMU releases that leave wrong RAM or a failed migration with
 * no error of the receiver's own, raised when the capture's version hints fit the affected releases:
 *  - 9.0–9.2 with any compression: a batch made only of zero pages takes a packet_num but is never written
 *    (multifd_send_prepare_common() returned before adding the header; fixed in 10.0 by cdc3970f85);
 *  - qpl (9.1, 9.2) and qatzip (9.2) receivers do not set the received bit of the data pages they load (fixed
 *    in 10.0 by 2588a5f99b and a523bc5216), and uadk receivers never do (multifd-uadk.c through 10.2): a zero
 *    page for a page whose bit is clear is taken as already zero, so the old data stays;
 *  - a pre-9.0 sender puts pages on SYNC packets; a 9.2 destination (d7e58f412c, until b93d897ea2 in 10.0)
 *    does not unfill SYNC packets, so their pages are dropped and their payload is read as the next header
 *    (QEMU issue 2720).
 */
export interface ReleaseBugInput {
  multifd: readonly MultifdStreamIndex[];
  streams: ReadonlyMap<number, CaptureStream>;
  main?: MainChannelIndex;
  schedule: ReplaySchedule;
  pageSize: number;
  versionHint: { atLeast?: Version; atMost?: Version; text?: string };
  sink: DiagnosticSink;
}

/** At most this many diagnostics per lint; the last one says how many more there were. */
const MAX_REPORTS = 50;

export async function lintKnownReleaseBugs(input: ReleaseBugInput): Promise<void> {
  lintZeroOnlyPacketsDropped(input);
  await lintReceivedMap(input);
  lintSyncWithPages(input);
}

function senderText(input: ReleaseBugInput): string {
  return input.versionHint.text
    ? `the sender's version hints say ${input.versionHint.text}`
    : 'no version hints contradict it';
}

function lintZeroOnlyPacketsDropped(input: ReleaseBugInput): void {
  const { multifd, sink } = input;
  const compressed = multifd.some((m) => m.method !== undefined && m.method !== 'none');
  if (!compressed || !rangeFits(input.versionHint, [9, 0], [9, 2])) return;
  const nums: { num: number; stream: number; packet: number }[] = [];
  for (const m of multifd)
    for (let i = 0; i < m.packets.length; i++)
      if (!m.packets.isDeviceState(i)) nums.push({ num: m.packets.packetNum.get(i), stream: m.streamId, packet: i });
  nums.sort((a, b) => a.num - b.num);
  let reported = 0;
  let more = 0;
  for (let i = 1; i < nums.length; i++) {
    const prev = nums[i - 1];
    const next = nums[i];
    if (next.num - prev.num <= 1) continue;
    if (reported >= MAX_REPORTS) {
      more++;
      continue;
    }
    reported++;
    const missing =
      next.num - prev.num === 2 ? `packet_num ${prev.num + 1} is` : `packet_num ${prev.num + 1}…${next.num - 1} are`;
    sink.report(
      'multifd.release-bug.zero-only-dropped',
      `${missing} missing between stream ${prev.stream} packet ${prev.packet} and stream ${next.stream} packet ${next.packet}: with compression a 9.0–9.2 sender fills a packet made only of zero pages but never writes it (fixed in 10.0 by cdc3970f85), so the zero pages it listed never reach the destination, which keeps whatever they held before (${senderText(input)})`,
      { stream: next.stream, packet: next.packet },
      { related: { stream: prev.stream, packet: prev.packet } },
    );
  }
  if (more)
    sink.report('multifd.release-bug.zero-only-dropped', `${more} more packet_num gap(s) of the same kind not listed`, {
      stream: multifd[0].streamId,
    });
}

/** Which receivers leave the received bit clear for the data pages they load, given the sender's hints. */
function nonMarkingMethods(input: ReleaseBugInput): Map<CompressionMethod, string> {
  const m = new Map<CompressionMethod, string>();
  if (rangeFits(input.versionHint, [9, 1], [9, 2]))
    m.set('qpl', 'a qpl receiver of 9.1 or 9.2 (fixed in 10.0 by 2588a5f99b)');
  if (rangeFits(input.versionHint, [9, 2], [9, 2]))
    m.set('qatzip', 'a qatzip receiver of 9.2 (fixed in 10.0 by a523bc5216)');
  m.set('uadk', 'a uadk receiver (multifd-uadk.c sets no received bit, through 10.2)');
  return m;
}

/** A page's state at the destination (a page never written is absent: zero, bit clear). */
const PAGE_DATA_UNMARKED = 1;
const PAGE_RECEIVED = 2;

/**
 * Follows the destination's received bitmap through the replay order: data loaded by a receiver that does not
 * mark it leaves the bit clear; multifd_recv_zero_page_process() then skips the memset for a clear bit (and
 * sets it), so a page that held such data and is later sent as a zero page keeps the data.
 */
async function lintReceivedMap(input: ReleaseBugInput): Promise<void> {
  const { multifd, streams, main, schedule, pageSize, sink } = input;
  const buggy = nonMarkingMethods(input);
  if (!multifd.some((m) => m.method !== undefined && buggy.has(m.method))) return;
  const state = new Map<string, Map<number, { s: number; writer: number }>>();
  const pagesOf = (block: string) => {
    let m = state.get(block);
    if (!m) state.set(block, (m = new Map()));
    return m;
  };
  let reported = 0;
  let more = 0;
  for (let i = 0; i < schedule.length; i++) {
    if (schedule.kind[i] === WriterKind.Main) {
      const r = main?.records.row(schedule.row[i]);
      const block = r && main?.ramblocks[r.block]?.name;
      // ram_load_precopy() sets the received bit of every page it loads.
      if (block !== undefined) pagesOf(block).set(Math.floor(r!.offset / pageSize), { s: PAGE_RECEIVED, writer: i });
      continue;
    }
    // mapped-ram windows come from a file, not from a multifd receiver.
    if (schedule.kind[i] !== WriterKind.Multifd) continue;
    const m = multifd[schedule.source[i]];
    const row = schedule.row[i];
    const t = m.packets;
    const stream = streams.get(m.streamId)?.toDestination;
    if (!stream) continue;
    const { block, normalOffsets, zeroOffsets } = await readPacketPages(headerReader(stream), t, row, pageSize);
    const pages = pagesOf(block);
    const marks = !(m.method !== undefined && buggy.has(m.method));
    for (const o of normalOffsets) {
      const p = Math.floor(o / pageSize);
      const prev = pages.get(p);
      pages.set(p, { s: marks || prev?.s === PAGE_RECEIVED ? PAGE_RECEIVED : PAGE_DATA_UNMARKED, writer: i });
    }
    const stale: string[] = [];
    for (const o of zeroOffsets) {
      const p = Math.floor(o / pageSize);
      const prev = pages.get(p);
      if (prev?.s === PAGE_DATA_UNMARKED) {
        const w = multifd[schedule.source[prev.writer]];
        stale.push(`${block}:0x${o.toString(16)} (data from stream ${w.streamId} packet ${schedule.row[prev.writer]})`);
      }
      if (prev?.s !== PAGE_RECEIVED) pages.set(p, { s: PAGE_RECEIVED, writer: i });
    }
    if (!stale.length) continue;
    if (reported >= MAX_REPORTS) {
      more += stale.length;
      continue;
    }
    reported++;
    const who = [
      ...new Set(multifd.filter((x) => x.method && buggy.has(x.method)).map((x) => buggy.get(x.method!)!)),
    ].join('; ');
    const shown = stale.slice(0, 8).join(', ') + (stale.length > 8 ? `, and ${stale.length - 8} more` : '');
    sink.report(
      'multifd.release-bug.received-map',
      `${stale.length} zero page(s) of this packet arrive for pages loaded as data and never marked received: ${shown}. On ${who}, these pages keep their old data instead of becoming zero (the replay zeroes them, as a fixed receiver does)`,
      { stream: m.streamId, packet: row },
    );
  }
  if (more)
    sink.report(
      'multifd.release-bug.received-map',
      `${more} more page(s) of the same kind in later packets not listed`,
      { stream: multifd[0].streamId },
    );
}

function lintSyncWithPages(input: ReleaseBugInput): void {
  const { multifd, sink } = input;
  if (!rangeFits(input.versionHint, [7, 0], [8, 2])) return;
  for (const m of multifd) {
    const t = m.packets;
    const hits: { row: number; num: number; pages: number }[] = [];
    let pages = 0;
    for (let i = 0; i < t.length; i++) {
      if (t.isDeviceState(i) || !(t.flags.get(i) & FLAG_SYNC)) continue;
      const n = t.normalPages.get(i) + t.zeroPages.get(i);
      if (n === 0) continue;
      hits.push({ row: i, num: t.packetNum.get(i), pages: n });
      pages += n;
    }
    if (!hits.length) continue;
    const shown =
      hits
        .slice(0, 8)
        .map((h) => `packet ${h.row} (packet_num ${h.num}, ${h.pages} page(s))`)
        .join(', ') + (hits.length > 8 ? `, and ${hits.length - 8} more` : '');
    sink.report(
      'multifd.release-bug.sync-with-pages',
      `stream ${m.streamId} (channel ${m.handshake?.channelId ?? '?'}): ${hits.length} SYNC packet(s) carry ${pages} page(s), as senders before 9.0 do: ${shown}. A 9.2 destination (d7e58f412c, until b93d897ea2 in 10.0; QEMU issue 2720) does not unfill SYNC packets, so it drops these pages and reads their payload as the next packet header, and the migration fails`,
      { stream: m.streamId, packet: hits[0].row },
    );
  }
}
