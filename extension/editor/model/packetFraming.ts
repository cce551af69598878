import type { StreamBytes } from '../../core/capture/streamBytes';
import type { CompressionMethod } from '../../core/multifd/constants';
import { describePayloadFraming } from '../../core/replay/receivers/payloadFraming';
import type { PayloadFramingInfo } from '../../shared/protocol';

/** Methods whose payload is cut per page (qpl, uadk: a be32 size array) or per gzip member (qatzip). */
const FRAMED_METHODS: ReadonlySet<string> = new Set(['qpl', 'uadk', 'qatzip']);

/** The largest payload read to describe it: QEMU's qatzip receiver takes at most 2 × 512 KiB, qpl/uadk less. */
const MAX_FRAMED_PAYLOAD = 4 << 20;

export function hasFraming(method: string | undefined): boolean {
  return method !== undefined && FRAMED_METHODS.has(method);
}

/**
 * The per-page compressed sizes (qpl, uadk) or gzip members (qatzip) of one packet's payload, for the details
 * tree; undefined for other methods and packets without normal pages.
 */
export async function readPacketFraming(
  bytes: StreamBytes,
  p: { method?: string; normalPages: number; payloadOffset: number; payloadLength: number },
  pageSize: number,
): Promise<PayloadFramingInfo | undefined> {
  if (!hasFraming(p.method) || p.normalPages === 0 || p.payloadLength === 0) return undefined;
  const method = p.method as 'qpl' | 'uadk' | 'qatzip';
  if (p.payloadLength > MAX_FRAMED_PAYLOAD) {
    return {
      method,
      pageSize,
      problem: `the payload is ${p.payloadLength} bytes, more than any ${method} receiver accepts; not described`,
    };
  }
  const hole = bytes.holeIn(p.payloadOffset, p.payloadOffset + p.payloadLength);
  if (hole)
    return {
      method,
      pageSize,
      problem: `${hole.length} bytes at stream offset ${hole.streamOffset} are missing from the capture (a hole in the payload); not described`,
    };
  const payload = await bytes.read(p.payloadOffset, p.payloadOffset + p.payloadLength);
  const f = describePayloadFraming(method as CompressionMethod, payload, p.normalPages, pageSize);
  if (!f) return undefined;
  const problem =
    payload.length < p.payloadLength
      ? `the capture ends ${payload.length} bytes into the ${p.payloadLength}-byte payload`
      : undefined;
  return {
    method: f.method,
    pageSize,
    sizeArrayLength: f.sizeArrayLength,
    pages: f.pages,
    members: f.members,
    problem: f.problem ?? problem,
  };
}
