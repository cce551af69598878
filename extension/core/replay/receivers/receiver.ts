import type { CompressionMethod } from '../../multifd/constants';
import type { PacketPayloadReceiver, ReceiverOptions } from './payloadReceiver';
import { NocompReceiver } from './nocompReceiver';
import { createQplReceiver } from './qplReceiver';
import { QatzipReceiver } from './qatzipReceiver';
import { createUadkReceiver } from './uadkReceiver';
import { createZlibReceiver } from './zlibReceiver';
import { ZstdJsReceiver } from './zstdJsReceiver';
import { createZstdNodeReceiver, nodeHasZstd } from './zstdNodeReceiver';

export type { PacketPayloadReceiver, ReceiverOptions } from './payloadReceiver';
export { ReceiveError, type ReceiveErrorCode } from './receiveError';
export { nodeHasZstd } from './zstdNodeReceiver';

/** The receiver QEMU's destination would use for a channel's compression method (the contract: payloadReceiver.ts). */
export function createReceiver(
  method: CompressionMethod,
  pageSize: number,
  options: ReceiverOptions = {},
): PacketPayloadReceiver {
  switch (method) {
    case 'none':
      return new NocompReceiver(pageSize);
    case 'zlib':
      return createZlibReceiver(pageSize);
    case 'zstd': {
      const impl = options.zstdImplementation ?? 'auto';
      if (impl === 'node' || (impl === 'auto' && nodeHasZstd())) return createZstdNodeReceiver(pageSize);
      return new ZstdJsReceiver(pageSize);
    }
    case 'qpl':
      return createQplReceiver(pageSize);
    case 'uadk':
      return createUadkReceiver(pageSize);
    case 'qatzip':
      return new QatzipReceiver(pageSize);
  }
}
