import type { CaptureAnalysis } from '../analysisTypes';
import { MainRecordKind } from '../mainchannel/recordTable';
import { headerReader, readPacketPages, type HeaderBytes } from '../multifd/packetPages';
import { WriterKind } from '../replay/schedule';
import { SparsePageMap } from '../util/sparsePageMap';
import type { Position } from './statsAxis';
import { compressionFigures, isDataRecord } from './streamStats';
import type { EpochStats } from './statsTypes';

/**
 * Per epoch (the replay order's: docs/wire/sync-and-replay.md): packets, pages as data and as zero on either
 * path, pages re-sent since an earlier epoch, each channel's share, and how well the payloads compressed.
 * Counts come from the packet and record tables; which pages were re-sent needs their offsets, read once
 * per packet through packetPages.ts in replay order, so epochs are seen in ascending order.
 */
export async function epochStats(
  analysis: CaptureAnalysis,
  x: Position,
): Promise<{ epochs: EpochStats[]; notes: string[] }> {
  const notes: string[] = [];
  const { multifd, main, pageSize } = analysis;
  let count = 0;
  for (const m of multifd) if (m.packets.length) count = Math.max(count, m.packets.epoch.get(m.packets.length - 1) + 1);
  if (main?.records.length) count = Math.max(count, main.records.epoch.get(main.records.length - 1) + 1);
  const epochs: EpochStats[] = [];
  for (let e = 0; e < count; e++)
    epochs.push({
      epoch: e,
      packets: 0,
      dataPages: 0,
      zeroPages: 0,
      mainDataPages: 0,
      mainZeroPages: 0,
      resentPages: 0,
      repeatedPages: 0,
      channels: multifd.map((m) => ({
        stream: m.streamId,
        channel: m.handshake?.channelId,
        packets: 0,
        dataPages: 0,
        zeroPages: 0,
        wireBytes: 0,
      })),
      balance: null,
      compression: compressionFigures(0, 0),
    });
  const widen = (ep: EpochStats, at: number) => {
    ep.start = Math.min(ep.start ?? at, at);
    ep.end = Math.max(ep.end ?? at, at);
  };
  const raw = new Float64Array(count);
  const payload = new Float64Array(count);

  multifd.forEach((m, ci) => {
    const t = m.packets;
    const bytes = analysis.streams.find((s) => s.id === m.streamId)!.stream.toDestination;
    for (let i = 0; i < t.length; i++) {
      const ep = epochs[t.epoch.get(i)];
      const share = ep.channels[ci];
      ep.packets++;
      share.packets++;
      share.wireBytes += t.headerLength.get(i) + t.payloadLength.get(i);
      widen(ep, x(bytes, t.headerOffset.get(i)));
      if (t.isDeviceState(i)) continue;
      const normal = t.normalPages.get(i);
      const zero = t.zeroPages.get(i);
      share.dataPages += normal;
      share.zeroPages += zero;
      ep.dataPages += normal;
      ep.zeroPages += zero;
      raw[ep.epoch] += normal * pageSize;
      payload[ep.epoch] += t.payloadLength.get(i);
    }
  });
  if (main) {
    const r = main.records;
    const bytes = analysis.streams.find((s) => s.id === main.streamId)!.stream.toDestination;
    for (let i = 0; i < r.length; i++) {
      const ep = epochs[r.epoch.get(i)];
      const kind = r.kind.get(i) as MainRecordKind;
      if (kind === MainRecordKind.MemSize) continue;
      widen(ep, x(bytes, r.streamPos.get(i)));
      if (kind === MainRecordKind.Zero) {
        ep.zeroPages++;
        ep.mainZeroPages++;
      } else if (isDataRecord(kind)) {
        ep.dataPages++;
        ep.mainDataPages++;
      }
    }
  }
  for (const ep of epochs) {
    ep.compression = compressionFigures(raw[ep.epoch], payload[ep.epoch]);
    const wire = ep.channels.map((c) => c.wireBytes);
    const total = wire.reduce((a, b) => a + b, 0);
    ep.balance = total > 0 ? Math.max(...wire) / (total / wire.length) : null;
  }
  if (await countResent(analysis, epochs))
    notes.push('mapped-ram pages are read in place, not sent in epochs: they are not counted as re-sent');
  return { epochs, notes };
}

/** Walks the replay schedule (ascending epochs); returns whether it met mapped-ram windows, which it skips. */
async function countResent(analysis: CaptureAnalysis, epochs: EpochStats[]): Promise<boolean> {
  const { schedule: s, multifd, main, pageSize } = analysis;
  const lastEpoch = new Map<string, SparsePageMap>();
  const readers: HeaderBytes[] = multifd.map((m) =>
    headerReader(analysis.streams.find((x) => x.id === m.streamId)!.stream.toDestination),
  );
  let mappedRam = false;
  const note = (block: string, offset: number, epoch: number) => {
    let map = lastEpoch.get(block);
    if (!map) lastEpoch.set(block, (map = new SparsePageMap(-1)));
    const page = Math.floor(offset / pageSize);
    const before = map.get(page);
    if (before === epoch) epochs[epoch].repeatedPages++;
    else {
      if (before >= 0) epochs[epoch].resentPages++;
      map.set(page, epoch);
    }
  };
  for (let i = 0; i < s.length; i++) {
    const epoch = s.epoch[i];
    if (s.kind[i] === WriterKind.Multifd) {
      const m = multifd[s.source[i]];
      const p = await readPacketPages(readers[s.source[i]], m.packets, s.row[i], pageSize);
      for (const o of p.normalOffsets) note(p.block, o, epoch);
      for (const o of p.zeroOffsets) note(p.block, o, epoch);
    } else if (s.kind[i] === WriterKind.Main && main) {
      const r = main.records;
      const row = s.row[i];
      note(main.ramblocks[r.block.get(row)]?.name ?? `#${r.block.get(row)}`, r.offset.get(row), epoch);
    } else mappedRam = true;
  }
  return mappedRam;
}
