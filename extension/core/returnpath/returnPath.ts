import type { StreamBytes } from '../capture/streamBytes';

/**
 * The return path: what the destination writes back on the main channel's other direction (migration.c,
 * `enum mig_rp_message_type`; sent by migrate_send_rp_*, read by the source's source_return_path_thread). Each
 * message is be16 type, be16 length, then that many bytes. REQ_PAGES/REQ_PAGES_ID are postcopy page faults;
 * PONG answers a PING command of the main channel.
 */

export const RP_MESSAGE_TYPES: Record<number, string> = {
  1: 'SHUT',
  2: 'PONG',
  3: 'REQ_PAGES_ID',
  4: 'REQ_PAGES',
  5: 'RECV_BITMAP',
  6: 'RESUME_ACK',
  7: 'SWITCHOVER_ACK',
};

/** The body lengths QEMU's source accepts for each type (-1: variable), as source_return_path_thread checks. */
const EXPECTED_LENGTH: Record<number, number> = { 1: 4, 2: 4, 3: -1, 4: 12, 5: -1, 6: 4, 7: 0 };
/** QEMU's own bound on a message body (the source's buffer is 512 bytes). */
export const MAX_RP_BODY = 512;
const RECV_BITMAP_END_MARK = 0x0123456789abcdefn;

export interface ReturnPathMessage {
  type: number;
  name: string;
  /** Stream offset of the message in the destination → source direction. */
  offset: number;
  length: number;
  /** Capture time of the bytes (ns from the capture's start), when the capture has times. */
  timeNs?: number;
  /** The decoded body, by field. */
  fields: Record<string, number | string | bigint>;
}

export interface ReturnPathProblem {
  offset: number;
  message: string;
}

export interface ReturnPath {
  messages: ReturnPathMessage[];
  problems: ReturnPathProblem[];
  /** Page requests with the ramblock each one names (REQ_PAGES uses the last one REQ_PAGES_ID named). */
  pageRequests: { offset: number; timeNs?: number; ramblock: string; start: bigint; length: number }[];
}

/** Reads every message; a malformed one stops the walk with a problem at its offset. */
export async function readReturnPath(stream: StreamBytes, maxMessages = 1_000_000): Promise<ReturnPath> {
  const timeAt = (offset: number): number | undefined =>
    stream.segmentCount > 0 ? stream.timestampOf(offset) : undefined;
  const out: ReturnPath = { messages: [], problems: [], pageRequests: [] };
  let pos = 0;
  let lastBlock = '';
  while (pos < stream.length) {
    if (out.messages.length >= maxMessages) {
      out.problems.push({
        offset: pos,
        message: `more than ${maxMessages} return-path messages; the rest are not listed`,
      });
      break;
    }
    const head = await stream.read(pos, pos + 4);
    if (head.length < 4) {
      out.problems.push({
        offset: pos,
        message: `the return path ends inside a message header (${head.length} of 4 bytes)`,
      });
      break;
    }
    const dv = new DataView(head.buffer, head.byteOffset, 4);
    const type = dv.getUint16(0);
    const length = dv.getUint16(2);
    const name = RP_MESSAGE_TYPES[type];
    if (!name) {
      out.problems.push({
        offset: pos,
        message: `unknown return-path message type ${type} (QEMU's source fails with "Received invalid message 0x${type.toString(16).padStart(4, '0')} length 0x${length.toString(16).padStart(4, '0')}")`,
      });
      break;
    }
    const expected = EXPECTED_LENGTH[type];
    if ((expected >= 0 && length !== expected) || length > MAX_RP_BODY) {
      out.problems.push({
        offset: pos,
        message: `${name} with a ${length}-byte body; QEMU's source expects ${expected >= 0 ? expected : `at most ${MAX_RP_BODY}`} and fails the migration`,
      });
      break;
    }
    const body = await stream.read(pos + 4, pos + 4 + length);
    if (body.length < length) {
      out.problems.push({
        offset: pos,
        message: `the return path ends inside ${name} (${body.length} of ${length} body bytes)`,
      });
      break;
    }
    const fields = decodeBody(type, body);
    const timeNs = timeAt(pos);
    out.messages.push({ type, name, offset: pos, length, timeNs, fields });
    if (type === 3) lastBlock = String(fields.ramblock ?? '');
    if (type === 3 || type === 4)
      out.pageRequests.push({
        offset: pos,
        timeNs,
        ramblock: lastBlock,
        start: fields.start as bigint,
        length: Number(fields.length),
      });
    pos += 4 + length;
    if (type === 5) {
      // Postcopy recovery: the received-pages bitmap follows the message unframed (ramblock_recv_bitmap_send):
      // be64 size, the bitmap, be64 end mark.
      const after = await readRecvBitmap(stream, pos, name === 'RECV_BITMAP' ? String(fields.ramblock) : '');
      if ('problem' in after) {
        out.problems.push(after.problem);
        break;
      }
      fields.bitmapBytes = after.size;
      pos = after.next;
    }
  }
  return out;
}

async function readRecvBitmap(
  stream: StreamBytes,
  at: number,
  block: string,
): Promise<{ size: number; next: number } | { problem: ReturnPathProblem }> {
  const head = await stream.read(at, at + 8);
  if (head.length < 8)
    return { problem: { offset: at, message: `the return path ends before the size of ${block}'s received bitmap` } };
  const size = new DataView(head.buffer, head.byteOffset, 8).getBigUint64(0);
  if (size > BigInt(stream.length - at - 16))
    return {
      problem: {
        offset: at,
        message: `${block}'s received bitmap claims ${size} bytes; ${Math.max(0, stream.length - at - 16)} remain`,
      },
    };
  const endAt = at + 8 + Number(size);
  const mark = await stream.read(endAt, endAt + 8);
  const value = new DataView(mark.buffer, mark.byteOffset, 8).getBigUint64(0);
  if (value !== RECV_BITMAP_END_MARK)
    return {
      problem: {
        offset: endAt,
        message: `${block}'s received bitmap does not end with the mark 0x0123456789abcdef (found 0x${value.toString(16)})`,
      },
    };
  return { size: Number(size), next: endAt + 8 };
}

function decodeBody(type: number, b: Uint8Array): Record<string, number | string | bigint> {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const name = (at: number): string =>
    new TextDecoder().decode(b.subarray(at + 1, Math.min(b.length, at + 1 + (b[at] ?? 0))));
  switch (type) {
    case 1:
      return { error: dv.getUint32(0) };
    case 2:
      return { value: dv.getUint32(0) };
    case 3:
      return { start: dv.getBigUint64(0), length: dv.getUint32(8), ramblock: b.length > 12 ? name(12) : '' };
    case 4:
      return { start: dv.getBigUint64(0), length: dv.getUint32(8) };
    case 5:
      return { ramblock: b.length > 0 ? name(0) : '' };
    case 6:
      return { value: dv.getUint32(0) };
    default:
      return {};
  }
}
