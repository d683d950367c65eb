/**
 * The fleet simulation's clock: simulated time that flows at the real rate while work is in
 * flight and jumps over the rest.
 *
 * Every time-based decision of the code under test reads `Date.now()` or `new Date()` (breaker
 * timeouts, leases, slow start, deadlines, the Lambda context's remaining time, channel idling,
 * log timestamps), and gRPC turns a call's `Date` deadline back into a relative timeout the same
 * way. {@link SimulatedClock.install} replaces the global `Date` with one that reads this clock, so
 * all of them agree. Timers (`setTimeout`) stay real: nothing the handlers run waits on a timer
 * longer than a retry backoff or a deadline, and those must take their real time.
 *
 * Why not @sinonjs/fake-timers with `toFake: ['Date']`: its time stands still until told to move,
 * so a real gRPC call or DynamoDB write would take no simulated time at all. Here a 3 ms call
 * takes 3 simulated ms, and only the idle rest of a simulated second is skipped
 * ({@link SimulatedClock.skipTo}): the simulation can run slower than AWS would, never faster.
 */
export class SimulatedClock {
  #simulatedAt: number;
  #realAt: number;
  #uninstall: (() => void) | undefined;

  /** Starts the clock at `start` (epoch ms). */
  constructor(start: number) {
    this.#simulatedAt = start;
    this.#realAt = performance.now();
  }

  /** The simulated time, epoch ms. */
  now(): number {
    return Math.floor(this.#simulatedAt + (performance.now() - this.#realAt));
  }

  /** Jumps forward to `at` when the clock is behind it; never moves back. */
  skipTo(at: number): void {
    const now = this.now();
    if (at <= now) return;
    this.#simulatedAt = at;
    this.#realAt = performance.now();
  }

  /**
   * Makes the global `Date` read this clock (`Date.now()`, `new Date()`, `Date()`); other
   * constructor forms and every static are the real `Date`'s. Returns the function that puts the
   * real `Date` back. Dates made before or after are instances of both.
   */
  install(): () => void {
    if (this.#uninstall) return this.#uninstall;
    const RealDate = globalThis.Date;
    const clock = this;
    function SimulatedDate(this: unknown, ...args: unknown[]): Date | string {
      if (!new.target) return new RealDate(clock.now()).toString();
      return args.length === 0 ? new RealDate(clock.now()) : new (RealDate as new (...a: unknown[]) => Date)(...args);
    }
    Object.defineProperties(SimulatedDate, {
      prototype: { value: RealDate.prototype },
      now: { value: () => clock.now(), writable: true, configurable: true },
      parse: { value: RealDate.parse, writable: true, configurable: true },
      UTC: { value: RealDate.UTC, writable: true, configurable: true },
    });
    globalThis.Date = SimulatedDate as unknown as DateConstructor;
    this.#uninstall = () => {
      globalThis.Date = RealDate;
      this.#uninstall = undefined;
    };
    return this.#uninstall;
  }
}
