import type { PacketPayloadReceiver } from './payloadReceiver';
import { ReceiveError } from './receiveError';

/** nocomp: the payload is the pages themselves; QEMU reads normal_pages × page_size bytes straight into RAM. */
export class NocompReceiver implements PacketPayloadReceiver {
  readonly method = 'none' as const;
  readonly packetsIndependent = true;

  constructor(private readonly pageSize: number) {}

  async receive(payload: Uint8Array, normalPages: number): Promise<Uint8Array> {
    // A packet without normal pages has no payload, whatever a stale next_packet_size says.
    if (normalPages === 0) return new Uint8Array(0);
    const expected = normalPages * this.pageSize;
    if (payload.length !== expected) {
      throw new ReceiveError(
        'replay.output-size',
        `nocomp: payload is ${payload.length} bytes, expected ${expected} (normal_pages × page_size)`,
      );
    }
    return payload;
  }

  close(): void {}
}
