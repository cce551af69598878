import { streamCursor, type StreamBytes } from '../capture/streamBytes';
import type { DiagnosticSink } from '../diagnostics/diagnostic';
import { LIMITS, MIG_CMD_POSTCOPY_ADVISE, QEMU_VM_COMMAND } from '../mainchannel/constants';
import { MainRecordKind, MainRecordTable, type MainChannelIndex } from '../mainchannel/mainChannelIndex';
import { mainChannelReporter, type Reporter } from '../mainchannel/mainReporter';
import { decodeRamSection, newRamState } from '../mainchannel/ramRecords';
import { StreamEnded, StreamWalker } from '../mainchannel/streamWalker';

/**
 * The postcopy preempt channel (postcopy-preempt, QEMU 7.1+). The source opens it for urgent pages: the ones
 * the destination asked for on the return path (REQ_PAGES), sent from the return-path thread ahead of the
 * background push on the main channel. It carries no magic: QEMU's destination tells the channels apart by
 * their magic only until the main channel and every multifd channel are there, and takes the next connection
 * as the preempt channel (migration_channel_identify: CH_POSTCOPY). Its bytes are RAM records as
 * ram_load_postcopy(RAM_CHANNEL_POSTCOPY) reads them, with no section around them: be64 offset|flags, the
 * u8-length idstr unless CONTINUE (which refers to this channel's own previous block), then a ZERO's fill
 * byte or a PAGE's data. Only ZERO, PAGE and EOS are valid. A 7.1/7.2 source ends it with EOS; an 8.0+ source
 * just closes it, so the channel may end between two records.
 */
export interface PreemptChannelIndex {
  streamId: number;
  /** The channel's RAM records, in the main channel's record table format; block indexes are the main channel's. */
  records: MainRecordTable;
  pageRecords: number;
  zeroRecords: number;
  /** An EOS was read (7.1/7.2 sources send one at the end; the destination's preempt thread stops there). */
  eos: boolean;
  /** Every byte was read as whole records, up to the end or the EOS. */
  complete: boolean;
  stoppedAt?: { streamOffset: number; reason: string };
  bytes: number;
}

/** Whether the main channel sent POSTCOPY_ADVISE: only then does the source open a preempt channel. */
export function postcopyAdvised(main: MainChannelIndex | undefined): boolean {
  return !!main?.sections.some((e) => e.type === QEMU_VM_COMMAND && e.id === MIG_CMD_POSTCOPY_ADVISE);
}

/** What a stream without magic is, as the destination would take it. */
export type NoMagicVerdict = { preempt: true } | { preempt: false; why: string };

/**
 * The destination's rule for a connection without magic: the first such one after the main channel and every
 * multifd channel, in a migration whose main channel advised postcopy, is the preempt channel. Any other one
 * (a second, one before the main or a multifd channel, or one without POSTCOPY_ADVISE) is not decoded.
 * `kinds` are the streams' kinds in connection order; returns a verdict per index of an 'unknown' stream.
 */
export function classifyNoMagicStreams(kinds: readonly string[], advised: boolean): Map<number, NoMagicVerdict> {
  const out = new Map<number, NoMagicVerdict>();
  let lastKnown = -1;
  kinds.forEach((k, i) => {
    if (k === 'main' || k === 'multifd') lastKnown = i;
  });
  let taken = -1;
  kinds.forEach((k, i) => {
    if (k !== 'unknown') return;
    if (!advised)
      out.set(i, { preempt: false, why: 'the main channel sent no POSTCOPY_ADVISE, so no preempt channel' });
    else if (i < lastKnown)
      out.set(i, {
        preempt: false,
        why: 'it connected before the main channel or a multifd channel, where the destination requires a magic',
      });
    else if (taken >= 0)
      out.set(i, {
        preempt: false,
        why: `stream ${taken}'s connection is already the preempt channel (a reconnection for postcopy recovery is not decoded)`,
      });
    else {
      taken = i;
      out.set(i, { preempt: true });
    }
  });
  return out;
}

/**
 * Reads the preempt channel's records with the main channel's RAM-record reader (its postcopy mode), against the
 * main channel's RAMBlocks. Bad bytes stop the walk with an error naming the stream, record and byte offset.
 */
export async function indexPreemptChannel(
  stream: StreamBytes,
  streamId: number,
  main: MainChannelIndex,
  pageSize: number,
  sink: DiagnosticSink,
): Promise<PreemptChannelIndex> {
  const records = new MainRecordTable();
  const base = mainChannelReporter(sink, streamId, stream);
  // Every finding names the record it is about: the one being read when none is given.
  const report: Reporter = (code, message, at, record, severity) =>
    base(code, message, at, record ?? records.length, severity);
  const w = new StreamWalker(streamCursor(stream), stream.length);
  const s = newRamState(w, pageSize, { records, ramblocks: main.ramblocks }, report, LIMITS.maxRecords);
  s.postcopyChannel = true;
  main.ramblocks.forEach((b, i) => {
    if (!s.blockIndex.has(b.name)) s.blockIndex.set(b.name, i);
  });
  const ix: PreemptChannelIndex = {
    streamId,
    records,
    pageRecords: 0,
    zeroRecords: 0,
    eos: false,
    complete: false,
    bytes: stream.length,
  };
  try {
    const r = await decodeRamSection(s);
    if (!r.ok) ix.stoppedAt = { streamOffset: r.at, reason: r.reason };
  } catch (e) {
    const at = s.recordAt;
    const why = e instanceof StreamEnded ? 'truncated' : `read error: ${e instanceof Error ? e.message : String(e)}`;
    report(
      'postcopy.preempt-truncated',
      e instanceof StreamEnded
        ? `the preempt channel ends (at ${stream.length}) inside RAM record ${records.length}, which starts here: that page never reached the destination`
        : `reading the preempt channel failed inside RAM record ${records.length}: ${why}`,
      at,
    );
    ix.stoppedAt = { streamOffset: at, reason: why };
  }
  for (let i = 0; i < records.length; i++) {
    const k = records.kind.get(i);
    if (k === MainRecordKind.Page) ix.pageRecords++;
    else if (k === MainRecordKind.Zero) ix.zeroRecords++;
    else if (k === MainRecordKind.Eos) ix.eos = true;
  }
  if (ix.eos && w.pos < stream.length)
    report(
      'postcopy.preempt-after-eos',
      `${stream.length - w.pos} byte(s) follow the preempt channel's EOS; the destination's preempt thread stops reading at EOS, so they are not decoded`,
      w.pos,
      records.length,
    );
  ix.complete = ix.stoppedAt === undefined;
  if (ix.complete) ix.stoppedAt = { streamOffset: w.pos, reason: ix.eos ? 'end (EOS)' : 'end of stream' };
  base(
    'postcopy.preempt-channel',
    `stream ${streamId} is the postcopy preempt channel (no magic, connected after the main channel and every multifd channel, POSTCOPY_ADVISE on the main channel): ${records.length} RAM record(s), ${ix.pageRecords} PAGE, ${ix.zeroRecords} ZERO${ix.eos ? ', EOS' : ''}`,
    0,
  );
  return ix;
}
