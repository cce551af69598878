/** Diagnostic codes a payload receiver can fail with (declared in diagnostics/codes.ts). */
export type ReceiveErrorCode = 'replay.decompress' | 'replay.output-size' | 'replay.not-decoded';

/** A packet payload that could not be turned into its pages. The message is the codec's own where it has one. */
export class ReceiveError extends Error {
  constructor(
    readonly code: ReceiveErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ReceiveError';
  }
}

export function tooFewOutput(method: string, got: number, expected: number): ReceiveError {
  return new ReceiveError('replay.output-size', `${method}: packet decompressed to ${got} bytes, expected ${expected} (normal_pages × page_size)`);
}

export function tooMuchOutput(method: string, expected: number): ReceiveError {
  return new ReceiveError('replay.output-size', `${method}: packet decompresses to more than ${expected} bytes (normal_pages × page_size); stopped inflating there`);
}

/** Once a packet fails the codec state is lost (QEMU aborts the migration there), so later packets fail too. */
export function channelStopped(first: ReceiveError): ReceiveError {
  return new ReceiveError(first.code, `an earlier payload on this channel failed, its stream cannot continue (${first.message})`);
}
