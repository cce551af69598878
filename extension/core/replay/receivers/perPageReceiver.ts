import type { CompressionMethod } from '../../multifd/constants';
import type { PacketPayloadReceiver } from './payloadReceiver';
import { ReceiveError } from './receiveError';

/**
 * qpl and uadk frame a packet the same way (multifd-qpl.c / multifd-uadk.c, 9.1+): a be32 size per normal page,
 * then each page's bytes. A size equal to the page size means the page travelled raw (the sender's fallback
 * when compressing did not make it smaller, or, for uadk, when there is no hardware); any other size is that
 * page compressed on its own. There is no state between pages or packets.
 *
 * QEMU's receiver asserts on a size array that does not fit (and aborts the destination); here each of those
 * asserts is a diagnostic naming the page.
 */
export interface PageCodec {
  /** Inflates one page; throws ReceiveError (with the page index) on failure. */
  decodePage(compressed: Uint8Array, page: number, out: Uint8Array): void;
}

export class PerPageReceiver implements PacketPayloadReceiver {
  readonly packetsIndependent = true;

  constructor(
    readonly method: CompressionMethod,
    private readonly pageSize: number,
    private readonly codec: PageCodec,
  ) {}

  async receive(payload: Uint8Array, normalPages: number): Promise<Uint8Array> {
    if (normalPages === 0) return new Uint8Array(0);
    const ps = this.pageSize;
    const m = this.method;
    const sizes = readSizeArray(m, payload, normalPages, ps);
    const out = new Uint8Array(normalPages * ps);
    let pos = normalPages * 4;
    for (let i = 0; i < normalPages; i++) {
      const len = sizes[i];
      const page = out.subarray(i * ps, (i + 1) * ps);
      // The page is uncompressed if its size equals the page size (QEMU memcpy()s it).
      if (len === ps) page.set(payload.subarray(pos, pos + ps));
      else this.codec.decodePage(payload.subarray(pos, pos + len), i, page);
      pos += len;
    }
    return out;
  }

  close(): void {}
}

/** The be32 size array, with the checks QEMU's receiver asserts (in this order). */
function readSizeArray(method: string, payload: Uint8Array, normalPages: number, pageSize: number): Uint32Array {
  const hdrLen = normalPages * 4;
  // assert(len < in_size): the array must leave room for at least one byte of page data.
  if (!(hdrLen < payload.length)) {
    throw new ReceiveError(
      'replay.decompress',
      `${method}: next_packet_size ${payload.length} leaves no room for page data after the ${hdrLen}-byte size array of ${normalPages} page(s) (QEMU asserts len < in_size)`,
      0,
    );
  }
  const view = new DataView(payload.buffer, payload.byteOffset, hdrLen);
  const sizes = new Uint32Array(normalPages);
  let total = 0;
  for (let i = 0; i < normalPages; i++) {
    sizes[i] = view.getUint32(4 * i);
    // assert(zlen[i] <= page_size)
    if (sizes[i] > pageSize) {
      throw new ReceiveError(
        'replay.decompress',
        `${method}: the size array gives page ${i} ${sizes[i]} bytes, more than the page size ${pageSize} (QEMU asserts size <= page_size)`,
        i,
      );
    }
    total += sizes[i];
  }
  // assert(in_size == len + zbuf_len): the array must account for every payload byte.
  if (payload.length !== hdrLen + total) {
    let end = hdrLen;
    let first = normalPages - 1;
    for (let i = 0; i < normalPages; i++) {
      end += sizes[i];
      if (end > payload.length) {
        first = i;
        break;
      }
    }
    const where =
      hdrLen + total > payload.length
        ? `page ${first} is the first that runs past the payload`
        : `${payload.length - hdrLen - total} byte(s) after page ${first} belong to no page`;
    throw new ReceiveError(
      'replay.decompress',
      `${method}: the size array adds up to ${hdrLen + total} bytes (${hdrLen} of sizes + ${total} of pages) but next_packet_size is ${payload.length}; ${where} (QEMU asserts in_size == len + zbuf_len)`,
      first,
    );
  }
  return sizes;
}
