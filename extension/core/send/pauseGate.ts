/**
 * Stops every stream at its next chunk boundary while a pause is open (`--pause-at`), so the destination
 * sits still while a person sets breakpoints, and lets them all go together.
 */
export class PauseGate {
  private waiting?: Promise<void>;
  private release?: () => void;

  get paused(): boolean {
    return this.waiting !== undefined;
  }

  close(): void {
    if (this.waiting) return;
    this.waiting = new Promise((resolve) => (this.release = resolve));
  }

  open(): void {
    const release = this.release;
    this.waiting = undefined;
    this.release = undefined;
    release?.();
  }

  /** Resolves at once when open, else when opened. */
  pass(): Promise<void> {
    return this.waiting ?? Promise.resolve();
  }
}
