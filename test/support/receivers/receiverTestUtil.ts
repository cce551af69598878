/** Shared checks for the receiver tests. */
import assert from 'node:assert/strict';
import type { PacketPayloadReceiver } from '../../../extension/core/replay/receivers/receiver';
import { ReceiveError, type ReceiveErrorCode } from '../../../extension/core/replay/receivers/receiveError';
import { concatBytes, type SentPacket } from './testStreams';

/**
 * Feeds a channel's packets in order and checks every packet's pages. Packets without pages are given the
 * previous payload, as a 7.2 sender's stale next_packet_size would suggest, and must be ignored.
 */
export async function replayChannel(
  receiver: PacketPayloadReceiver,
  sent: SentPacket[],
  pageSize: number,
): Promise<void> {
  let stale: Uint8Array = new Uint8Array(0);
  for (const [i, p] of sent.entries()) {
    const out = await receiver.receive(p.pages.length ? p.payload : stale, p.pages.length);
    assert.equal(out.length, p.pages.length * pageSize, `packet ${i}: output length`);
    assert.ok(
      Buffer.from(out.buffer, out.byteOffset, out.length).equals(concatBytes(p.pages)),
      `packet ${i}: pages differ`,
    );
    if (p.pages.length) stale = p.payload;
  }
}

export async function rejectsWith(
  promise: Promise<unknown>,
  code: ReceiveErrorCode,
  message?: RegExp,
): Promise<ReceiveError> {
  try {
    await promise;
  } catch (e) {
    assert.ok(e instanceof ReceiveError, `expected ReceiveError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    if (message) assert.match(e.message, message);
    return e;
  }
  assert.fail(`expected a ReceiveError ${code}`);
}
