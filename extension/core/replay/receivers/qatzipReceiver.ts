import * as zlib from 'node:zlib';
import { MULTIFD_PACKET_SIZE } from '../../multifd/constants';
import type { PacketPayloadReceiver } from './payloadReceiver';
import { ReceiveError, zlibFailure } from './receiveError';
import { GZIP_FOOTER_SIZE, QZ_HEADER_SIZE, readQzHeader } from './qzGzipHeader';

/**
 * qatzip (Intel QAT, 9.2+): all normal pages of a packet are compressed by one qzCompress() call into a run of
 * gzip members, each with QATzip's 'QZ' extra field giving its input size (src_sz) and its deflate length
 * (dest_sz); the hardware writes one member per 64 KiB of input, the software fallback one member for the
 * whole call. There is no raw fallback. qatzip_recv() decompresses the run and requires exactly
 * normal_pages × page_size bytes ("packet size received … size expected …").
 */
export class QatzipReceiver implements PacketPayloadReceiver {
  readonly method = 'qatzip' as const;
  readonly packetsIndependent = true;

  constructor(private readonly pageSize: number) {}

  async receive(payload: Uint8Array, normalPages: number): Promise<Uint8Array> {
    if (normalPages === 0) return new Uint8Array(0);
    const ps = this.pageSize;
    // The receiver's input buffer is 2 × MULTIFD_PACKET_SIZE.
    if (payload.length > 2 * MULTIFD_PACKET_SIZE) {
      throw new ReceiveError(
        'replay.decompress',
        `qatzip: received unexpectedly large packet: next_packet_size ${payload.length} is more than ${2 * MULTIFD_PACKET_SIZE} bytes`,
        0,
      );
    }
    const expected = normalPages * ps;
    const out = new Uint8Array(expected);
    let produced = 0;
    let pos = 0;
    for (let member = 0; pos < payload.length; member++) {
      const page = Math.floor(produced / ps);
      const at = `member ${member} (payload byte ${pos}, page ${Math.min(page, normalPages - 1)})`;
      if (produced === expected) {
        throw new ReceiveError(
          'replay.output-size',
          `qatzip: packet size received more than ${expected}, size expected ${expected}: ${payload.length - pos} byte(s) follow the member that completed the packet's ${normalPages} page(s)`,
          normalPages - 1,
        );
      }
      const header = readQzHeader(payload, pos);
      if (typeof header === 'string')
        throw new ReceiveError('replay.decompress', `qatzip: qzDecompress failed: ${at} ${header}`, page);
      const end = pos + QZ_HEADER_SIZE + header.destSize + GZIP_FOOTER_SIZE;
      if (end > payload.length) {
        throw new ReceiveError(
          'replay.decompress',
          `qatzip: qzDecompress failed: ${at} is cut short: its QZ field gives ${header.destSize} bytes of deflate data, so the member ends at byte ${end}, but the payload is ${payload.length} bytes`,
          page,
        );
      }
      let got: Buffer;
      try {
        // Bounded by what the packet still needs: a member that inflates past it stops there.
        got = zlib.gunzipSync(payload.subarray(pos, end), { maxOutputLength: expected - produced });
      } catch (e) {
        const f = zlibFailure(e);
        if (f.tooLarge)
          throw new ReceiveError(
            'replay.output-size',
            `qatzip: packet size received more than ${expected}, size expected ${expected}: ${at} inflates past the packet's ${normalPages} page(s) (stopped there)`,
            page,
          );
        throw new ReceiveError('replay.decompress', `qatzip: qzDecompress failed: ${at}: ${f.message}`, page);
      }
      if (got.length !== header.srcSize) {
        throw new ReceiveError(
          'replay.decompress',
          `qatzip: qzDecompress failed: ${at} inflates to ${got.length} bytes but its QZ field says src_sz ${header.srcSize}`,
          page,
        );
      }
      out.set(got, produced);
      produced += got.length;
      pos = end;
    }
    if (produced !== expected) {
      throw new ReceiveError(
        'replay.output-size',
        `qatzip: packet size received ${produced} size expected ${expected} (normal_pages × page_size); the members end inside page ${Math.floor(produced / ps)}`,
        Math.floor(produced / ps),
      );
    }
    return out;
  }

  close(): void {}
}
