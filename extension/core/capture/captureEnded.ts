/**
 * A capture gave fewer bytes than its index says it holds: the file shrank (or was cut) after it was opened.
 * Never a short result: whoever reads names where the capture ended, and replay stops there.
 */
export class CaptureEndedError extends Error {
  constructor(
    message: string,
    /** File offset where the bytes stopped. */
    readonly fileOffset: number,
    /** Stream offset where the bytes stopped, once known (StreamBytes adds it). */
    readonly streamOffset?: number,
  ) {
    super(message);
  }
}
