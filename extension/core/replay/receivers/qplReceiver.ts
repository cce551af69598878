import * as zlib from 'node:zlib';
import type { PacketPayloadReceiver } from './payloadReceiver';
import { PerPageReceiver, type PageCodec } from './perPageReceiver';
import { ReceiveError, zlibFailure } from './receiveError';

/**
 * qpl (Intel IAA, 9.1+): each compressed page is raw DEFLATE (no zlib or gzip wrapper), a whole stream ending
 * in a final block (QPL_FLAG_FIRST | QPL_FLAG_LAST), level 1. The sender gives the job page_size - 1 bytes of
 * output, so anything that would not shrink is sent raw; a compressed size below the page size is inflated,
 * and, as multifd_qpl_process_and_check_job() requires, must give exactly one page.
 */
class QplPageCodec implements PageCodec {
  constructor(private readonly pageSize: number) {}

  decodePage(compressed: Uint8Array, page: number, out: Uint8Array): void {
    let got: Buffer;
    try {
      // The bound makes a page that inflates past its size stop there instead of growing memory.
      got = zlib.inflateRawSync(compressed, { maxOutputLength: this.pageSize });
    } catch (e) {
      const f = zlibFailure(e);
      if (f.tooLarge)
        throw new ReceiveError(
          'replay.output-size',
          `qpl: page ${page}: qpl decompressed len > ${this.pageSize}, expected len ${this.pageSize} (stopped inflating at the page size)`,
          page,
        );
      throw new ReceiveError(
        'replay.decompress',
        `qpl: page ${page}: qpl job failed: raw DEFLATE of ${compressed.length} bytes does not inflate (${f.message})`,
        page,
      );
    }
    if (got.length !== this.pageSize)
      throw new ReceiveError(
        'replay.output-size',
        `qpl: page ${page}: qpl decompressed len ${got.length}, expected len ${this.pageSize}`,
        page,
      );
    out.set(got);
  }
}

export function createQplReceiver(pageSize: number): PacketPayloadReceiver {
  return new PerPageReceiver('qpl', pageSize, new QplPageCodec(pageSize));
}
