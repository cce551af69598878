import type { StreamBytes } from '../capture/streamBytes';
import type { DiagnosticSink } from '../diagnostics/diagnostic';
import type { MainChannelIndex } from '../mainchannel/mainChannelIndex';
import type { PageArrival } from '../postcopy/pageRequests';
import { mainChannelArrivals, postcopySwitchOffset, preemptArrivals } from '../postcopy/pageRequestsOfCapture';
import type { PreemptChannelIndex } from '../postcopy/preemptChannel';
import { WriterKind, type ReplaySchedule } from './schedule';

export interface PostcopyOrderInput {
  main: MainChannelIndex;
  mainStream: StreamBytes;
  preempt?: PreemptChannelIndex;
  preemptStream?: StreamBytes;
  pageSize: number;
  /** Whether the capture has times (.mfd, pcap): a raw dump cannot order two streams. */
  timed: boolean;
  sink: DiagnosticSink;
}

/**
 * From the switch on the destination places postcopy pages as they come in, from the main channel (its
 * ram_load_postcopy) and from the preempt channel (the preempt thread's), whichever is read first. The schedule
 * keeps every entry before the switch as it is, then puts the main channel's records after the switch and the
 * preempt channel's records in the order their last byte was captured. Where two streams carry the same page and
 * the capture cannot order them (equal times, or none), a warning names both records.
 */
export function withPostcopyOrder(s: ReplaySchedule, o: PostcopyOrderInput): ReplaySchedule {
  if (postcopySwitchOffset(o.main) < 0) return s;
  const mainAfter = mainChannelArrivals(o.main, o.mainStream, o.pageSize);
  const fromPreempt =
    o.preempt && o.preemptStream ? preemptArrivals(o.preempt, o.main.ramblocks, o.preemptStream, o.pageSize) : [];
  const after = new Set(mainAfter.map((a) => a.record));
  const keep: number[] = [];
  for (let i = 0; i < s.length; i++) if (!(s.kind[i] === WriterKind.Main && after.has(s.row[i]))) keep.push(i);
  const tagged = [
    ...mainAfter.map((a, k) => ({ a, kind: WriterKind.Main, k })),
    ...fromPreempt.map((a, k) => ({ a, kind: WriterKind.Preempt, k })),
  ];
  // Stable: by capture time, then main before preempt, then stream order.
  tagged.sort((x, y) => (o.timed ? x.a.timeNs - y.a.timeNs : 0) || x.kind - y.kind || x.k - y.k);
  reportUnorderedCopies(
    tagged.map((t) => t.a),
    o,
  );

  const n = keep.length + tagged.length;
  const RowArray = s.row.constructor as new (length: number) => ReplaySchedule['row'];
  const out: ReplaySchedule = {
    length: n,
    kind: new Uint8Array(n),
    source: new Int32Array(n),
    row: new RowArray(n),
    epoch: new Uint32Array(n),
    postcopyStart: keep.length,
  };
  keep.forEach((i, j) => {
    out.kind[j] = s.kind[i];
    out.source[j] = s.source[i];
    out.row[j] = s.row[i];
    out.epoch[j] = s.epoch[i];
  });
  const epoch = o.main.records.length ? o.main.records.epoch.get(o.main.records.length - 1) : 0;
  tagged.forEach((t, k) => {
    const j = keep.length + k;
    out.kind[j] = t.kind;
    out.source[j] = -1;
    out.row[j] = t.a.record;
    out.epoch[j] = t.kind === WriterKind.Main ? o.main.records.epoch.get(t.a.record) : epoch;
  });
  return out;
}

/** Same page on two streams at the same capture time (or in a capture without times): which came first is unknown. */
function reportUnorderedCopies(arrivals: PageArrival[], o: PostcopyOrderInput): void {
  const seen = new Map<string, PageArrival>();
  for (const a of arrivals) {
    const key = `${a.ramblock}\u0000${a.offset}`;
    const prev = seen.get(key);
    if (!prev) {
      seen.set(key, a);
      continue;
    }
    if (prev.streamId === a.streamId || (o.timed && prev.timeNs !== a.timeNs)) continue;
    o.sink.report(
      'postcopy.order-unknown',
      `page ${a.ramblock}:0x${a.offset.toString(16)} comes on two streams after the switch, ${describe(prev)} and ${describe(a)}, ${o.timed ? `both captured at ${a.timeNs} ns` : 'in a capture without times'}: which one the destination placed (it keeps the first) cannot be told; replay applies ${describe(prev)}`,
      { stream: a.streamId, record: a.record },
      { related: { stream: prev.streamId, record: prev.record } },
    );
  }
}

function describe(a: PageArrival): string {
  return `${a.via === 'main' ? 'main-channel' : 'preempt-channel'} record ${a.record} (stream ${a.streamId})`;
}
