import type { MeshMetricName } from './metric-names.js';

/** The samples of one gauge for one dimension set since the last flush. */
export interface GaugeSeries {
  readonly name: MeshMetricName;
  readonly dimensions: Readonly<Record<string, string>>;
  /** In the order they were taken: a breaker's transitions read 1, 2, 0. */
  readonly values: number[];
}

/**
 * Keeps gauge samples (breaker state, SVID expiry, service up) in memory between flushes.
 *
 * Every sample is kept rather than the last one: a breaker that opened and closed again within
 * one invocation must still show as open (Maximum ≥ 1) for an alarm to see it.
 */
export class GaugeAggregate {
  readonly #series = new Map<string, GaugeSeries>();

  /** Adds a sample of `name` for `dimensions`. */
  record(name: MeshMetricName, dimensions: Readonly<Record<string, string>>, value: number): void {
    const key = `${name}\u0000${Object.entries(dimensions).flat().join('\u0000')}`;
    let series = this.#series.get(key);
    if (series === undefined) {
      series = { name, dimensions, values: [] };
      this.#series.set(key, series);
    }
    series.values.push(value);
  }

  /** Returns every series sampled since the last drain and starts afresh. */
  drain(): GaugeSeries[] {
    const drained = [...this.#series.values()];
    this.#series.clear();
    return drained;
  }
}
