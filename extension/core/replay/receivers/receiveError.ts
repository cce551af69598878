/** Diagnostic codes a payload receiver can fail with (declared in diagnostics/codes.ts). */
export type ReceiveErrorCode = 'replay.decompress' | 'replay.output-size';

/**
 * A packet payload that could not be turned into its pages. The message is the codec's own where it has one.
 * `page` is the index, in the packet's offset[] order, of the first normal page the failure concerns, when
 * the method compresses pages (or runs of pages) separately and so knows it.
 */
export class ReceiveError extends Error {
  constructor(
    readonly code: ReceiveErrorCode,
    message: string,
    readonly page?: number,
  ) {
    super(message);
    this.name = 'ReceiveError';
  }
}

export function tooFewOutput(method: string, got: number, expected: number): ReceiveError {
  return new ReceiveError(
    'replay.output-size',
    `${method}: packet decompressed to ${got} bytes, expected ${expected} (normal_pages × page_size)`,
  );
}

export function tooMuchOutput(method: string, expected: number): ReceiveError {
  return new ReceiveError(
    'replay.output-size',
    `${method}: packet decompresses to more than ${expected} bytes (normal_pages × page_size); stopped inflating there`,
  );
}

/** Once a packet fails the codec state is lost (QEMU aborts the migration there), so later packets fail too. */
export function channelStopped(first: ReceiveError): ReceiveError {
  return new ReceiveError(
    first.code,
    `an earlier payload on this channel failed, its stream cannot continue (${first.message})`,
    first.page,
  );
}

/** node:zlib's own words for a failure, and whether it was the output bound (maxOutputLength) that stopped it. */
export function zlibFailure(e: unknown): { message: string; tooLarge: boolean } {
  const err = e as { code?: string; message?: string };
  return { message: err.message ?? String(e), tooLarge: err.code === 'ERR_BUFFER_TOO_LARGE' };
}
