import type { DiagnosticSink } from './diagnostic';
import type { MultifdStreamIndex } from '../multifd/indexMultifdStream';
import type { MainChannelIndex } from '../mainchannel/mainChannelIndex';
import type { CaptureStream } from '../capture/capture';
import { WriterKind, type ReplaySchedule } from '../replay/schedule';
import { headerReader, readPacketPages } from '../multifd/packetPages';
import { SparsePageMap } from '../util/sparsePageMap';
import { assembleVfioDeviceState } from '../multifd/vfioBuffers';

/**
 * Lints across streams, which QEMU's receiver does not make but which explain most broken migrations:
 * handshake consistency, SYNC counts, packet_num continuity and pages sent twice in one epoch.
 */
export interface CrossCheckInput {
  multifd: readonly MultifdStreamIndex[];
  streams: ReadonlyMap<number, CaptureStream>;
  main?: MainChannelIndex;
  /** The replay order built by the analysis: the page-twice-in-epoch check walks it. */
  schedule: ReplaySchedule;
  pageSize: number;
  /** multifd-channels from the capture's parameters, when recorded. */
  channels?: number;
  /** True when the sender is ≤ 8.2, whose quirks make some findings expected. */
  oldSender: boolean;
  sink: DiagnosticSink;
}

export async function runCrossChecks(input: CrossCheckInput): Promise<void> {
  checkHandshakes(input);
  checkSyncCounts(input);
  checkPacketNums(input);
  await checkPagesTwiceInEpoch(input);
  await checkVfioDeviceState(input);
}

/** VFIO state on multifd (10.0+): each device's buffers, put in idx order as the destination does, must be whole. */
async function checkVfioDeviceState({ multifd, streams, sink }: CrossCheckInput): Promise<void> {
  if (!multifd.some((m) => m.deviceStatePackets > 0)) return;
  const devices = await assembleVfioDeviceState(multifd, (id) => streams.get(id)!.toDestination);
  for (const d of devices)
    for (const p of d.problems)
      sink.report(
        'multifd.device-state.vfio',
        p.message,
        p.location,
        p.severity ? { severity: p.severity } : undefined,
      );
}

function checkHandshakes({ multifd, channels, sink }: CrossCheckInput): void {
  const withHs = multifd.filter((m) => m.handshake);
  const first = withHs[0];
  for (const m of withHs.slice(1)) {
    if (m.handshake!.uuid !== first.handshake!.uuid) {
      sink.report(
        'multifd.uuid-mismatch',
        `multifd: received uuid '${m.handshake!.uuid}' on channel ${m.handshake!.channelId}, but stream ${first.streamId} carries '${first.handshake!.uuid}'; all channels of one migration share the source's uuid`,
        { stream: m.streamId, streamOffset: 8 },
        { related: { stream: first.streamId, streamOffset: 8 } },
      );
    }
  }
  const limit = channels ?? withHs.length;
  const seen = new Map<number, number>();
  for (const m of withHs) {
    const id = m.handshake!.channelId;
    // QEMU's check is `id > channels` (an off-by-one), so id == channels gets through there; it is still wrong.
    if (id >= limit)
      sink.report(
        'multifd.init.channel-id',
        `channel id ${id} is not below the number of channels (${limit}${channels === undefined ? ', counted from the capture' : ''})`,
        { stream: m.streamId, streamOffset: 24 },
      );
    const other = seen.get(id);
    if (other !== undefined)
      sink.report(
        'multifd.init.channel-id',
        `channel id ${id} is also used by stream ${other}`,
        { stream: m.streamId, streamOffset: 24 },
        { related: { stream: other, streamOffset: 24 } },
      );
    seen.set(id, m.streamId);
  }
}

function checkSyncCounts({ multifd, main, sink }: CrossCheckInput): void {
  if (multifd.length === 0) return;
  const counts = multifd.map((m) => m.syncPackets);
  const max = Math.max(...counts);
  const min = Math.min(...counts);
  if (max !== min) {
    const list = multifd
      .map((m) => `stream ${m.streamId} (channel ${m.handshake?.channelId ?? '?'}): ${m.syncPackets}`)
      .join(', ');
    sink.report(
      'multifd.sync-count-mismatch',
      `channels carry different numbers of SYNC packets: ${list}. Every multifd_send_sync_main() puts one SYNC on every channel, so a channel with fewer was cut short`,
      { stream: multifd[counts.indexOf(min)].streamId },
    );
  }
  if (main && main.syncMarkers !== max) {
    sink.report(
      'multifd.sync-marker-mismatch',
      `the main channel has ${main.syncMarkers} sync markers (${main.syncMode === 'flush' ? 'RAM_SAVE_FLAG_MULTIFD_FLUSH' : 'RAM EOS'}) but channels carry up to ${max} SYNCs; the destination pairs the n-th marker with the n-th SYNC of every channel`,
      { stream: main.streamId },
    );
  }
}

function checkPacketNums({ multifd, oldSender, sink }: CrossCheckInput): void {
  let total = 0;
  for (const m of multifd) for (let i = 0; i < m.packets.length; i++) if (!m.packets.isDeviceState(i)) total++;
  if (total === 0) return;
  const nums = new Float64Array(total);
  let k = 0;
  for (const m of multifd)
    for (let i = 0; i < m.packets.length; i++) if (!m.packets.isDeviceState(i)) nums[k++] = m.packets.packetNum.get(i);
  nums.sort();
  let gaps = 0;
  let missing = 0;
  let repeats = 0;
  const examples: string[] = [];
  for (let i = 1; i < nums.length; i++) {
    const d = nums[i] - nums[i - 1];
    if (d === 0) {
      repeats++;
      if (examples.length < 5) examples.push(`${nums[i]} repeated`);
    } else if (d > 1) {
      gaps++;
      missing += d - 1;
      if (examples.length < 5) examples.push(`${nums[i - 1] + 1}…${nums[i] - 1} missing`);
    }
  }
  const why = oldSender
    ? "expected from QEMU ≤ 8.2 senders: a pages+SYNC packet takes the SYNC job's number and the empty packet after it repeats it"
    : 'from 9.0 to 9.2, packets made only of zero pages consume a packet_num but are never sent when compression is on (any method); from 10.0 on, packet_num runs without gaps';
  if (gaps)
    sink.report(
      'multifd.packet-num-gap',
      `${missing} packet_num value(s) missing in ${gaps} gap(s) across all channels (${examples.join(', ')}); ${why}`,
      { stream: multifd[0].streamId },
      { severity: oldSender ? 'info' : 'warning' },
    );
  if (repeats)
    sink.report(
      'multifd.packet-num-repeat',
      `${repeats} packet_num value(s) used twice across all channels; ${why}`,
      { stream: multifd[0].streamId },
      { severity: oldSender ? 'info' : 'warning' },
    );
}

/** The page-twice-in-epoch check's memory bound per ramblock: regions of pages, allocated where pages are written. */
const TWICE_IN_EPOCH_REGIONS = 2048;
const TWICE_IN_EPOCH_REGION_PAGES = 4096;

/** Within one epoch QEMU loads channels concurrently, so a page sent twice there has no defined winner. */
async function checkPagesTwiceInEpoch({
  multifd,
  streams,
  main,
  schedule,
  pageSize,
  oldSender,
  sink,
}: CrossCheckInput): Promise<void> {
  const maps = new Map<string, SparsePageMap>();
  const mapFor = (name: string) => {
    let m = maps.get(name);
    if (!m) maps.set(name, (m = new SparsePageMap(-1, TWICE_IN_EPOCH_REGIONS, TWICE_IN_EPOCH_REGION_PAGES)));
    return m;
  };
  let count = 0;
  let capped = false;
  const describe = (i: number) =>
    schedule.kind[i] === WriterKind.Multifd
      ? `stream ${multifd[schedule.source[i]].streamId} packet ${schedule.row[i]}`
      : `main-channel record ${schedule.row[i]}`;
  const locate = (i: number) =>
    schedule.kind[i] === WriterKind.Multifd
      ? { stream: multifd[schedule.source[i]].streamId, packet: schedule.row[i] }
      : { stream: main!.streamId, record: schedule.row[i] };
  const visit = (i: number, block: string, offset: number) => {
    const map = mapFor(block);
    const page = Math.floor(offset / pageSize);
    const prev = map.get(page);
    if (prev >= 0 && schedule.epoch[prev] === schedule.epoch[i]) {
      count++;
      sink.report(
        'multifd.page-twice-in-epoch',
        `page ${block}:0x${offset.toString(16)} is sent twice in epoch ${schedule.epoch[i]}: by ${describe(prev)} and by ${describe(i)}` +
          (oldSender
            ? ' (QEMU 7.2 re-sends the last page of a full batch as the first of the next; the later packet_num wins)'
            : '; QEMU loads channels concurrently within an epoch, so which copy the destination keeps is not defined'),
        locate(i),
        { severity: oldSender ? 'info' : 'warning', related: locate(prev) },
      );
    }
    if (!map.set(page, i)) capped = true;
  };
  for (let i = 0; i < schedule.length; i++) {
    if (schedule.kind[i] === WriterKind.Multifd) {
      const m = multifd[schedule.source[i]];
      const row = schedule.row[i];
      const stream = streams.get(m.streamId)!.toDestination;
      const { block, normalOffsets, zeroOffsets } = await readPacketPages(
        headerReader(stream),
        m.packets,
        row,
        pageSize,
      );
      for (const o of normalOffsets) visit(i, block, o);
      for (const o of zeroOffsets) visit(i, block, o);
    } else if (main && schedule.kind[i] === WriterKind.Main) {
      const r = main.records.row(schedule.row[i]);
      const block = main.ramblocks[r.block]?.name;
      if (block !== undefined) visit(i, block, r.offset);
    }
  }
  if (capped) {
    const blocks = [...maps].filter(([, m]) => m.capped).map(([name]) => name);
    sink.report(
      'diagnostics.capped',
      `the page-twice-in-epoch check tracks pages in at most ${TWICE_IN_EPOCH_REGIONS} regions of ${TWICE_IN_EPOCH_REGION_PAGES} pages per ramblock (the first regions written); pages of ${blocks.join(', ')} outside those regions were not checked`,
      {},
    );
  }
  void count;
}
