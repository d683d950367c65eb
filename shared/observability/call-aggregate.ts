/** The calls of one (service, method, code) since the last flush. */
export interface CallSeries {
  readonly service: string;
  readonly method: string;
  readonly code: string;
  /** Attempts counted, including ones without a duration (policy rejections). */
  requests: number;
  /** Attempts whose code is not `OK`. */
  failed: number;
  /** Each timed attempt's duration in seconds, in the order they finished. */
  readonly durationsSeconds: number[];
}

/**
 * Counts mesh calls in memory per (service, method, code) between flushes.
 *
 * Recording is the hot path (once per attempt, on the caller's stack): one string key, one map
 * lookup, two increments and a push; nothing is serialised or written until {@link drain}.
 */
export class CallAggregate {
  readonly #series = new Map<string, CallSeries>();

  /** Adds one attempt; `durationMs` is left out for calls that were never sent. */
  record(service: string, method: string, code: string, failed: boolean, durationMs?: number): void {
    // NUL cannot occur in a service, method or code name, so the key is unambiguous.
    const key = `${service}\u0000${method}\u0000${code}`;
    let series = this.#series.get(key);
    if (series === undefined) {
      series = { service, method, code, requests: 0, failed: 0, durationsSeconds: [] };
      this.#series.set(key, series);
    }
    series.requests += 1;
    if (failed) series.failed += 1;
    if (durationMs !== undefined) series.durationsSeconds.push(durationMs / 1000);
  }

  /** True when nothing was recorded since the last drain. */
  get empty(): boolean {
    return this.#series.size === 0;
  }

  /** Returns every series recorded since the last drain and starts afresh. */
  drain(): CallSeries[] {
    const drained = [...this.#series.values()];
    this.#series.clear();
    return drained;
  }
}
