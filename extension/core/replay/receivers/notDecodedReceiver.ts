import type { CompressionMethod } from '../../multifd/constants';
import type { PacketPayloadReceiver } from './receiver';
import { ReceiveError } from './receiveError';

/** qpl, uadk and qatzip: framing is known (per-page lengths or one blob per packet) but no decoder is wired yet. */
export class NotDecodedReceiver implements PacketPayloadReceiver {
  constructor(readonly method: CompressionMethod) {}

  async receive(_payload: Uint8Array, normalPages: number): Promise<Uint8Array> {
    if (normalPages === 0) return new Uint8Array(0);
    throw new ReceiveError('replay.not-decoded', `payloads of ${this.method} are not decoded yet`);
  }

  close(): void {}
}
