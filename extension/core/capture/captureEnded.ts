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

/** Bytes of a stream the capture never held: a TCP segment tcpdump dropped, a frame the snaplen cut. */
export interface StreamHole {
  streamOffset: number;
  length: number;
}

/**
 * A read touched a hole. Readers that know the framing ask StreamBytes.holeIn() first and never see this;
 * anything else stops with the hole named, never with bytes that are not the stream's.
 */
export class StreamHoleError extends Error {
  constructor(
    readonly hole: StreamHole,
    /** The range that was asked for. */
    readonly from: number,
    readonly to: number,
  ) {
    super(
      `stream bytes [${from}, ${to}) touch a hole: ${hole.length} byte(s) at stream offset ${hole.streamOffset} are not in the capture`,
    );
  }
}
