import * as zlib from 'node:zlib';
import type { PacketPayloadReceiver } from './payloadReceiver';
import { PerPageReceiver, type PageCodec } from './perPageReceiver';
import { ReceiveError, zlibFailure } from './receiveError';

/**
 * uadk (HiSilicon, 9.1+): each compressed page is a zlib stream (WD_ZLIB, level 1, 4 KiB window). Without the
 * hardware the sender sends every page raw (its size is then the page size), which is what a source without
 * a HiSilicon card produces. Here the compressed pages are inflated in software where QEMU would need the
 * card ("UADK HW not available for decompression"). Inflating with Z_SYNC_FLUSH accepts a stream whose
 * Adler-32 trailer is missing or cut off, which hardware engines may leave out; a wrong trailer still fails.
 */
class UadkPageCodec implements PageCodec {
  constructor(private readonly pageSize: number) {}

  decodePage(compressed: Uint8Array, page: number, out: Uint8Array): void {
    let got: Buffer;
    try {
      got = zlib.inflateSync(compressed, { maxOutputLength: this.pageSize, finishFlush: zlib.constants.Z_SYNC_FLUSH });
    } catch (e) {
      const f = zlibFailure(e);
      if (f.tooLarge)
        throw new ReceiveError(
          'replay.output-size',
          `uadk: page ${page}: decompressed length error: the page inflates past ${this.pageSize} bytes (stopped there)`,
          page,
        );
      throw new ReceiveError(
        'replay.decompress',
        `uadk: page ${page}: failed decompression of a ${compressed.length}-byte zlib stream (${f.message})`,
        page,
      );
    }
    if (got.length !== this.pageSize)
      throw new ReceiveError(
        'replay.output-size',
        `uadk: page ${page}: decompressed length error: ${got.length} bytes, expected ${this.pageSize}`,
        page,
      );
    out.set(got);
  }
}

export function createUadkReceiver(pageSize: number): PacketPayloadReceiver {
  return new PerPageReceiver('uadk', pageSize, new UadkPageCodec(pageSize));
}
