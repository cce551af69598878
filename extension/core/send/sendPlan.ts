import type { Capture } from '../capture/capture';
import type { StreamBytes } from '../capture/streamBytes';
import { analyzeCapture } from '../analysis';
import { hex } from '../util/bytes';
import { MAIN_STREAM_MAGIC, MULTIFD_STREAM_MAGIC, streamKindOf } from '../layout/streamMagic';

/**
 * Which connections to open, in which order, and where to pause. Connections keep the recorded accept order
 * (stream ids): QEMU 7.2's destination takes the first connection for the main channel, and newer ones at least
 * see the channels in the order the source opened them.
 */

export type SendStreamKind = 'main' | 'multifd' | 'unknown';

export interface PlannedStream {
  id: number;
  kind: SendStreamKind;
  bytes: StreamBytes;
  recordedReturnPath: StreamBytes;
  /** Stop before this stream offset and wait (`--pause-at`). */
  pauseOffset?: number;
}

export interface SendPlan {
  streams: PlannedStream[];
  /** Recorded connections with no source→destination bytes: not opened. */
  skipped: number[];
  warnings: string[];
}

/** `STREAM:PACKET` (a multifd packet index, as `mfd packets` numbers them) or `STREAM:@OFFSET` (a stream byte offset). */
export interface PauseAt {
  stream: number;
  packet?: number;
  offset?: number;
}

export interface ResolvedPause {
  stream: number;
  packet?: number;
  /** Stream offset: bytes [0, offset) of the stream go out before the pause. */
  offset: number;
  fileOffset: number;
}

/** Bad `--pause-at`, a capture with nothing to send: the message says what and where. */
export class SendInputError extends Error {}

export function parsePauseAt(text: string): PauseAt {
  const m = /^(\d+):(@?)(0x[0-9a-f]+|\d+)$/i.exec(text.trim());
  if (!m)
    throw new SendInputError(
      `--pause-at "${text}": STREAM:PACKET (e.g. 2:17) or STREAM:@OFFSET (e.g. 0:@4096) expected`,
    );
  const n = Number(m[3]);
  if (!Number.isSafeInteger(n)) throw new SendInputError(`--pause-at "${text}": ${m[3]} is too large`);
  return m[2] ? { stream: Number(m[1]), offset: n } : { stream: Number(m[1]), packet: n };
}

function kindOf(first: Uint8Array): SendStreamKind {
  return streamKindOf(first) ?? 'unknown';
}

export async function planStreams(capture: Capture): Promise<SendPlan> {
  const plan: SendPlan = { streams: [], skipped: [], warnings: [] };
  for (const s of [...capture.streams].sort((a, b) => a.id - b.id)) {
    if (s.toDestination.length === 0) {
      plan.skipped.push(s.id);
      continue;
    }
    const first = await s.toDestination.read(0, 4);
    const kind = kindOf(first);
    if (kind === 'unknown')
      plan.warnings.push(
        `stream ${s.id} starts with ${hex(first, 4)}, neither a main channel (${MAIN_STREAM_MAGIC.shown}) nor multifd (${MULTIFD_STREAM_MAGIC.shown}); it is sent as recorded`,
      );
    // Bytes never captured cannot be sent: the stream goes up to its first hole, as QEMU would have read it.
    const hole = s.toDestination.holes()[0];
    if (hole)
      plan.warnings.push(
        `stream ${s.id} has ${s.toDestination.holes().length} hole(s) in the capture; it is sent up to the first, at stream offset ${hole.streamOffset}`,
      );
    const bytes = hole ? s.toDestination.prefix(hole.streamOffset) : s.toDestination;
    plan.streams.push({ id: s.id, kind, bytes, recordedReturnPath: s.toSource });
  }
  if (!plan.streams.length)
    throw new SendInputError(`${capture.path}: no stream carries source→destination bytes; nothing to send`);
  const mains = plan.streams.filter((s) => s.kind === 'main');
  if (!mains.length)
    plan.warnings.push(
      `no main migration channel (${MAIN_STREAM_MAGIC.shown}) in this capture: the destination will wait for one`,
    );
  else if (plan.streams[0].kind !== 'main')
    plan.warnings.push(
      `the main channel is stream ${mains[0].id}, not the first accepted connection: sent in recorded order, which QEMU 7.2 destinations take for the main channel`,
    );
  for (const d of capture.diagnostics)
    if (d.code === 'capture.truncated-record')
      plan.warnings.push(
        `the capture is cut short (${d.message}): the destination will wait for bytes that never come`,
      );
  return plan;
}

/** Finds the stream offset of `--pause-at`; a packet index needs the multifd index of that stream. */
export async function resolvePause(
  capture: Capture,
  plan: SendPlan,
  at: PauseAt,
  pageSize?: number,
): Promise<ResolvedPause> {
  const stream = plan.streams.find((s) => s.id === at.stream);
  if (!stream) {
    const ids = plan.streams.map((s) => s.id).join(', ');
    throw new SendInputError(`--pause-at: stream ${at.stream} is not sent (streams with bytes to send: ${ids})`);
  }
  let offset: number;
  if (at.offset !== undefined) {
    if (at.offset >= stream.bytes.length)
      throw new SendInputError(
        `--pause-at ${at.stream}:@${at.offset}: stream ${at.stream} has ${stream.bytes.length} bytes (offsets 0–${stream.bytes.length - 1})`,
      );
    offset = at.offset;
  } else {
    if (stream.kind !== 'multifd')
      throw new SendInputError(
        `--pause-at ${at.stream}:${at.packet}: stream ${at.stream} is the ${stream.kind === 'main' ? 'main channel' : 'unknown stream'}, which has no multifd packets; use ${at.stream}:@OFFSET for a byte offset`,
      );
    const analysis = await analyzeCapture(capture, { pageSize });
    const index = analysis.multifd.find((m) => m.streamId === at.stream);
    const count = index?.packets.length ?? 0;
    if (!index || at.packet! >= count)
      throw new SendInputError(
        `--pause-at ${at.stream}:${at.packet}: stream ${at.stream} has ${count} decoded packet(s)${count ? ` (0–${count - 1})` : ''}`,
      );
    offset = index.packets.headerOffset.get(at.packet!);
  }
  stream.pauseOffset = offset;
  return { stream: at.stream, packet: at.packet, offset, fileOffset: stream.bytes.fileOffsetOf(offset) };
}
