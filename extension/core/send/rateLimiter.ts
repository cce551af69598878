import { sleep } from './wait';

/**
 * One budget of bytes per second shared by all streams (`--rate` caps the total, as a link would).
 * Each caller books its bytes on a virtual timeline and waits until its slot; a short burst allowance keeps
 * small chunks from paying a timer round trip each.
 */
export class RateLimiter {
  private nextFree = 0;

  constructor(
    readonly bytesPerSecond: number,
    private readonly burstMs = 50,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!(bytesPerSecond > 0))
      throw new Error(`rate ${bytesPerSecond}: a positive number of bytes per second expected`);
  }

  /** Waits until `bytes` may be sent. */
  async take(bytes: number, signal?: AbortSignal): Promise<void> {
    const now = this.now();
    this.nextFree = Math.max(this.nextFree, now - this.burstMs);
    const start = this.nextFree;
    this.nextFree += (bytes * 1000) / this.bytesPerSecond;
    await sleep(start - now, signal);
  }
}
