import type { Transform } from 'node:stream';
import { MULTIFD_PACKET_SIZE, type CompressionMethod } from '../../multifd/constants';
import type { PacketPayloadReceiver } from './payloadReceiver';
import { ReceiveError, channelStopped, tooFewOutput, tooMuchOutput } from './receiveError';

/**
 * The codec's output buffer size. Several packets share one buffer (their pages are slices of it), so only
 * a packet crossing a buffer end is copied, and the extra codec call Node makes when a buffer fills exactly
 * happens once per buffer rather than once per packet. A bomb gets at most this far past its bound.
 */
export const OUTPUT_CHUNK = 8 * MULTIFD_PACKET_SIZE;

interface Pending {
  expected: number;
  chunks: Uint8Array[];
  got: number;
  resolve(out: Uint8Array): void;
  reject(e: ReceiveError): void;
}

/**
 * Drives one persistent node:zlib decompression stream (Inflate or ZstdDecompress) for a whole channel, as
 * QEMU keeps one z_stream / ZSTD_DStream per channel. Each payload is one write; the stream's flush flag
 * makes it emit everything decodable, and QEMU's sender ends every packet on a flush boundary, so when the
 * write completes the packet's pages are all out. Output arrives through 'data' and is counted as it comes:
 * past normal_pages × page_size the stream is destroyed, which stops the codec before its next output buffer.
 */
export class NodeStreamReceiver implements PacketPayloadReceiver {
  private pending: Pending | undefined;
  private failure: ReceiveError | undefined;
  private ended = false;

  constructor(
    readonly method: CompressionMethod,
    private readonly pageSize: number,
    private readonly stream: Transform,
  ) {
    stream.on('data', (chunk: Buffer) => this.onData(chunk));
    stream.on('error', (e: Error) => this.fail(new ReceiveError('replay.decompress', `${method}: ${e.message}`)));
    // The codec met the end of its stream (zlib final block, a zstd frame end with trailing garbage): QEMU's
    // receiver treats that as an error, and nothing more can be decoded.
    stream.on('end', () => {
      this.ended = true;
    });
  }

  receive(payload: Uint8Array, normalPages: number): Promise<Uint8Array> {
    // Packets without normal pages carry no payload (their next_packet_size may be stale): never fed.
    if (normalPages === 0) return Promise.resolve(new Uint8Array(0));
    if (this.failure) return Promise.reject(channelStopped(this.failure));
    if (this.pending) return Promise.reject(new Error('receive() called before the previous packet was decoded'));
    if (this.ended)
      return Promise.reject(
        this.remember(
          new ReceiveError('replay.decompress', `${this.method}: the compressed stream ended inside the channel`),
        ),
      );
    return new Promise<Uint8Array>((resolve, reject) => {
      this.pending = { expected: normalPages * this.pageSize, chunks: [], got: 0, resolve, reject };
      this.stream.write(payload, () => this.onWritten());
    });
  }

  close(): void {
    this.stream.destroy();
  }

  private onData(chunk: Buffer): void {
    const p = this.pending;
    if (!p) return;
    p.got += chunk.length;
    if (p.got > p.expected) {
      this.fail(tooMuchOutput(this.method, p.expected));
      return;
    }
    // Node allocates a fresh output buffer whenever one fills, so earlier chunks are never overwritten.
    p.chunks.push(chunk);
  }

  private async onWritten(): Promise<void> {
    // 'data' is emitted synchronously while the stream flows, so nothing should be left; allow a turn in case.
    for (let i = 0; i < 4 && this.pending && this.stream.readableLength > 0; i++)
      await new Promise((r) => setImmediate(r));
    const p = this.pending;
    if (!p) return;
    if (this.ended) {
      this.fail(
        new ReceiveError('replay.decompress', `${this.method}: the compressed stream ended inside the channel`),
      );
      return;
    }
    if (p.got !== p.expected) {
      this.fail(tooFewOutput(this.method, p.got, p.expected));
      return;
    }
    this.pending = undefined;
    p.resolve(p.chunks.length === 1 ? p.chunks[0] : concat(p.chunks, p.expected));
  }

  private fail(e: ReceiveError): void {
    if (this.failure) return;
    this.remember(e);
    this.stream.destroy();
    const p = this.pending;
    this.pending = undefined;
    p?.reject(e);
  }

  private remember(e: ReceiveError): ReceiveError {
    this.failure ??= e;
    return e;
  }
}

function concat(chunks: Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length);
  let pos = 0;
  for (const c of chunks) {
    out.set(c, pos);
    pos += c.length;
  }
  return out;
}
