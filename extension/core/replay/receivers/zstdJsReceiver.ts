import { Decompress } from 'fzstd';
import type { PacketPayloadReceiver } from './payloadReceiver';
import { ReceiveError, channelStopped, tooFewOutput, tooMuchOutput } from './receiveError';
import { ZSTD_MAGIC, parseZstdFrameHeader, type ZstdFrameHeader } from './zstdFrameHeader';
import { ZSTD_WINDOW_LOG_MAX } from './zstdNodeReceiver';

/** Thrown from fzstd's data callback to stop a bomb mid-payload; never escapes this file. */
class OutputBound extends Error {}

/**
 * zstd in pure JS (for Node < 22.15), on fzstd's streaming Decompress: it decodes every complete block it is
 * pushed and keeps the window, repeat offsets and entropy tables between pushes, so each ZSTD_e_flush-ended
 * packet comes out whole. fzstd waits for 18 bytes before it parses a frame header, and a channel's first
 * payload can be shorter (one page that compresses to a few bytes), so the header is checked here and given
 * to fzstd rewritten to its 18-byte form (4-byte dictionary id 0, 8-byte content size 0, same window).
 */
export class ZstdJsReceiver implements PacketPayloadReceiver {
  readonly method = 'zstd' as const;
  private readonly decoder = new Decompress();
  private started = false;
  private failure: ReceiveError | undefined;
  private out = new Uint8Array(0);
  private pos = 0;

  constructor(private readonly pageSize: number) {
    this.decoder.ondata = (chunk) => {
      if (this.pos + chunk.length > this.out.length) throw new OutputBound();
      this.out.set(chunk, this.pos);
      this.pos += chunk.length;
    };
  }

  async receive(payload: Uint8Array, normalPages: number): Promise<Uint8Array> {
    if (normalPages === 0) return new Uint8Array(0);
    if (this.failure) throw channelStopped(this.failure);
    const expected = normalPages * this.pageSize;
    try {
      const input = this.started ? payload : this.startFrame(payload);
      this.started = true;
      this.out = new Uint8Array(expected);
      this.pos = 0;
      this.decoder.push(input);
    } catch (e) {
      throw this.fail(
        e instanceof OutputBound
          ? tooMuchOutput('zstd', expected)
          : e instanceof ReceiveError
            ? e
            : new ReceiveError('replay.decompress', `zstd: ${(e as Error).message}`),
      );
    }
    if (this.pos !== expected) throw this.fail(tooFewOutput('zstd', this.pos, expected));
    const out = this.out;
    this.out = new Uint8Array(0);
    return out;
  }

  close(): void {
    this.out = new Uint8Array(0);
  }

  private startFrame(payload: Uint8Array): Uint8Array {
    let h: ZstdFrameHeader | undefined;
    try {
      h = parseZstdFrameHeader(payload);
    } catch (e) {
      throw new ReceiveError('replay.decompress', `zstd: ${(e as Error).message}`);
    }
    if (!h)
      throw new ReceiveError(
        'replay.output-size',
        `zstd: the first payload (${payload.length} bytes) ends inside the frame header`,
      );
    if (h.dictionaryId !== 0)
      throw new ReceiveError(
        'replay.decompress',
        `zstd: Dictionary mismatch (the frame needs dictionary ${h.dictionaryId})`,
      );
    if (h.windowSize > 2 ** ZSTD_WINDOW_LOG_MAX) {
      throw new ReceiveError(
        'replay.decompress',
        `zstd: Frame requires too much memory for decoding (window ${h.windowSize} bytes)`,
      );
    }
    const header = new Uint8Array(18 + payload.length - h.length);
    header.set(ZSTD_MAGIC, 0);
    header[4] = 0xc3 | (h.checksum ? 0x04 : 0);
    header[5] = h.windowDescriptor ?? windowDescriptorFor(h.windowSize);
    header.set(payload.subarray(h.length), 18);
    return header;
  }

  private fail(e: ReceiveError): ReceiveError {
    this.failure ??= e;
    return e;
  }
}

/** The smallest Window_Descriptor (exponent only) whose window holds `size` bytes. */
function windowDescriptorFor(size: number): number {
  let exponent = 0;
  while (2 ** (10 + exponent) < size) exponent++;
  return exponent << 3;
}
