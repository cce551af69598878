import type { CompressionMethod } from '../../multifd/constants';
import type { PacketPayloadReceiver } from './payloadReceiver';
import { ReceiveError, channelStopped, tooFewOutput, tooMuchOutput } from './receiveError';

/**
 * The synchronous core of a node:zlib engine (Inflate, ZstdDecompress): its native handle's `writeSync` and the
 * two-word state it reports (avail_out, avail_in) after each call. This is what `zlib.inflateSync` drives, but
 * inflateSync closes the engine afterwards; driving the handle here keeps one persistent engine per channel, so
 * the codec state carries from packet to packet as QEMU's z_stream / ZSTD_DStream does. None of it is in the
 * public typings, so its presence is checked and the stream-based receiver is used where it is missing.
 */
interface NativeHandle {
  writeSync(
    flush: number,
    input: Uint8Array,
    inOff: number,
    inLen: number,
    out: Uint8Array,
    outOff: number,
    outLen: number,
  ): void;
}

interface SyncEngine {
  _handle: NativeHandle | null;
  _writeState: Uint32Array;
  on(event: 'error', f: (e: Error) => void): void;
  close(): void;
}

function parkedError(engine: object): Error | undefined {
  for (const sym of Object.getOwnPropertySymbols(engine)) {
    const v = (engine as Record<symbol, unknown>)[sym];
    if (sym.description === 'kError' && v instanceof Error) return v;
  }
  return undefined;
}

export function asSyncEngine(engine: unknown): SyncEngine | undefined {
  const e = engine as Partial<SyncEngine>;
  return typeof e._handle?.writeSync === 'function' && e._writeState instanceof Uint32Array
    ? (e as SyncEngine)
    : undefined;
}

export class SyncCodecReceiver implements PacketPayloadReceiver {
  private failure: ReceiveError | undefined;
  private codecError: Error | undefined;

  constructor(
    readonly method: CompressionMethod,
    private readonly pageSize: number,
    private readonly engine: SyncEngine,
    private readonly flushFlag: number,
  ) {
    // After a codec error the engine also emits 'error' (on a later tick): handled here, reported by receive().
    engine.on('error', (e) => {
      this.codecError = e;
    });
  }

  async receive(payload: Uint8Array, normalPages: number): Promise<Uint8Array> {
    if (normalPages === 0) return new Uint8Array(0);
    if (this.failure) throw channelStopped(this.failure);
    const expected = normalPages * this.pageSize;
    // One extra byte of room: output that reaches it proves the payload inflates past its bound (a bomb).
    const out = new Uint8Array(expected + 1);
    const handle = this.engine._handle;
    const state = this.engine._writeState;
    let inOff = 0;
    let outOff = 0;
    try {
      if (!handle) throw new Error('the codec is closed');
      for (;;) {
        const availIn = payload.length - inOff;
        const availOut = out.length - outOff;
        handle.writeSync(this.flushFlag, payload, inOff, availIn, out, outOff, availOut);
        // A codec error closes the engine synchronously (its handle goes) and parks the error on it.
        if (this.codecError || this.engine._handle !== handle)
          throw this.codecError ?? parkedError(this.engine) ?? new Error('the codec failed');
        const availOutAfter = state[0];
        const availInAfter = state[1];
        outOff += availOut - availOutAfter;
        inOff += availIn - availInAfter;
        if (outOff > expected) throw tooMuchOutput(this.method, expected);
        // avail_out left over means the codec has emitted everything this input yields.
        if (availOutAfter !== 0 || inOff >= payload.length) break;
      }
    } catch (e) {
      throw this.remember(
        e instanceof ReceiveError
          ? e
          : new ReceiveError('replay.decompress', `${this.method}: ${(e as Error).message}`),
      );
    }
    if (outOff !== expected) throw this.remember(tooFewOutput(this.method, outOff, expected));
    return out.subarray(0, expected);
  }

  private remember(e: ReceiveError): ReceiveError {
    this.failure ??= e;
    return e;
  }

  close(): void {
    this.engine.close();
  }
}
