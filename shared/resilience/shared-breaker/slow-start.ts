/**
 * The ramp after a breaker closed: the share of calls admitted grows linearly from 0 at
 * `startedAt` to all of them `durationMs` later, so a fleet that kept a backlog during an outage
 * does not land it on the service all at once.
 *
 * Deterministic rather than random: every call adds the current share to a credit and a call is
 * admitted when the credit reaches one, so the admitted share follows the ramp exactly and a
 * simulated clock reproduces it. The first call after closing is always admitted.
 */
export class SlowStart {
  #credit = 1;

  constructor(
    readonly startedAt: number,
    readonly durationMs: number,
  ) {}

  /** The share of calls admitted at `now`, from 0 to 1. */
  share(now: number): number {
    if (this.durationMs <= 0) return 1;
    return Math.min(1, Math.max(0, (now - this.startedAt) / this.durationMs));
  }

  /** True until the ramp has reached every call. */
  running(now: number): boolean {
    return this.share(now) < 1;
  }

  /** Decides whether the call arriving at `now` is admitted. */
  admit(now: number): boolean {
    const share = this.share(now);
    if (share >= 1) return true;
    this.#credit = Math.min(1, this.#credit + share);
    if (this.#credit < 1) return false;
    this.#credit -= 1;
    return true;
  }
}
