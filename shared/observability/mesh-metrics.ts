import { Metrics } from '@aws-lambda-powertools/metrics';
import type { MetricsOptions } from '@aws-lambda-powertools/metrics/types';
import { breakerStateValue, type BreakerStateName } from '../resilience/circuit-breaker.js';
import { CallAggregate } from './call-aggregate.js';
import { OK_CODE } from './call-code.js';
import { GaugeAggregate } from './gauge-aggregate.js';
import { DEFAULT_METRICS_NAMESPACE, MESH_METRIC_UNITS, MESH_METRICS, type MeshMetricName } from './metric-names.js';

export interface MeshMetricsOptions {
  /** CloudWatch namespace; else `POWERTOOLS_METRICS_NAMESPACE`, else {@link DEFAULT_METRICS_NAMESPACE}. */
  namespace?: string;
  /** Where Powertools reports its own problems (an invalid dimension); the console when unset. */
  logger?: MetricsOptions['logger'];
}

/**
 * Powertools publishes a document on its own as soon as one metric holds 100 values, and clears
 * the dimensions while doing so; the next values would then go out without any. Documents are
 * therefore cut at 99 values per metric here.
 */
const VALUES_PER_DOCUMENT = 99;

/** A sampler runs at every flush, before anything is written (e.g. the SVID's seconds to expiry). */
export type FlushSampler = (metrics: MeshMetrics) => void;

/**
 * The mesh's metrics in CloudWatch Embedded Metric Format, written through Powertools Metrics.
 *
 * Calls and gauges are recorded in memory; {@link flush} writes one EMF document (one stdout line)
 * per dimension set, once per invocation, rather than one per call. Call durations are written as
 * an array of every value: CloudWatch keeps the individual values of an EMF array, so percentiles
 * (p50, p99) work on them, whereas a sum and a count would only ever give an average.
 *
 * The Powertools instance is private to the mesh: its default `service` dimension (the function's
 * name) is removed, because `service` here names the mesh service called.
 */
export class MeshMetrics {
  readonly namespace: string;
  readonly #powertools: Metrics;
  readonly #calls = new CallAggregate();
  readonly #gauges = new GaugeAggregate();
  readonly #samplers = new Set<FlushSampler>();

  constructor(options: MeshMetricsOptions = {}) {
    this.namespace = options.namespace || process.env.POWERTOOLS_METRICS_NAMESPACE || DEFAULT_METRICS_NAMESPACE;
    this.#powertools = new Metrics({ namespace: this.namespace, ...(options.logger ? { logger: options.logger } : {}) });
    this.#powertools.clearDefaultDimensions();
  }

  /**
   * Counts one attempt under (service, method, code); `durationMs` is left out for a call the
   * policy rejected before sending it, so rejections never pull the latency percentiles down.
   */
  recordCall(service: string, method: string, code: string, durationMs?: number): void {
    this.#calls.record(service, method, code, code !== OK_CODE, durationMs);
  }

  /** Records a breaker state (0 closed, 1 open, 2 half-open) for `service`. */
  recordBreakerState(service: string, state: BreakerStateName): void {
    this.#gauges.record(MESH_METRICS.circuitBreakerState, { service }, breakerStateValue(state));
  }

  /** Counts one failed read or write of the shared breaker's store for `service`. */
  recordBreakerStoreError(service: string): void {
    this.#gauges.record(MESH_METRICS.breakerStoreErrorsTotal, { service }, 1);
  }

  /** Records whether `consumer`'s queue consumption is paused (its event source mapping disabled). */
  recordQueueConsumptionPaused(consumer: string, paused: boolean): void {
    this.#gauges.record(MESH_METRICS.queueConsumptionPaused, { consumer }, paused ? 1 : 0);
  }

  /** Records the seconds left before the SVID of `spiffeId` expires. */
  recordSvidExpiry(spiffeId: string, seconds: number): void {
    this.#gauges.record(MESH_METRICS.svidExpirySeconds, { spiffe_id: spiffeId }, seconds);
  }

  /** Records whether `service` answered its health check. */
  recordServiceUp(service: string, up: boolean): void {
    this.#gauges.record(MESH_METRICS.serviceUp, { service }, up ? 1 : 0);
  }

  /** Counts members for whom a grant or revoke of `entitlement` took effect. */
  recordEntitlementChanges(action: 'grant' | 'revoke', entitlement: string, members: number): void {
    const name = action === 'grant' ? MESH_METRICS.entitlementsGrantedTotal : MESH_METRICS.entitlementsRevokedTotal;
    this.#gauges.record(name, { entitlement }, members);
  }

  /** Runs `sampler` at the start of every flush; returns the function that stops it. */
  addFlushSampler(sampler: FlushSampler): () => void {
    this.#samplers.add(sampler);
    return () => this.#samplers.delete(sampler);
  }

  /**
   * Writes everything recorded since the last flush as EMF documents and forgets it. Synchronous:
   * nothing is left pending when the handler returns. Writes nothing when nothing was recorded.
   */
  flush(): void {
    for (const sampler of this.#samplers) {
      try {
        sampler(this);
      } catch (error) {
        // A broken sampler must neither fail the invocation nor keep the other metrics from going out.
        process.emitWarning(error instanceof Error ? error : String(error), { code: 'MESH_METRICS_SAMPLER_FAILED' });
      }
    }
    for (const series of this.#calls.drain()) {
      const { service, method, code } = series;
      this.#publish({ service, method, code }, [
        [MESH_METRICS.requestsTotal, [series.requests]],
        [MESH_METRICS.requestsFailedTotal, series.failed > 0 ? [series.failed] : []],
        [MESH_METRICS.requestDurationSeconds, series.durationsSeconds],
      ]);
    }
    for (const gauge of this.#gauges.drain()) {
      this.#publish(gauge.dimensions, [[gauge.name, gauge.values]]);
    }
  }

  /** Writes one dimension set's metrics as one EMF document (more only past 99 values per metric). */
  #publish(dimensions: Readonly<Record<string, string>>, metrics: ReadonlyArray<readonly [MeshMetricName, readonly number[]]>): void {
    const longest = Math.max(0, ...metrics.map(([, values]) => values.length));
    for (let start = 0; start < longest; start += VALUES_PER_DOCUMENT) {
      this.#powertools.addDimensions(dimensions);
      for (const [name, values] of metrics) {
        for (const value of values.slice(start, start + VALUES_PER_DOCUMENT)) {
          this.#powertools.addMetric(name, MESH_METRIC_UNITS[name], value);
        }
      }
      this.#powertools.publishStoredMetrics();
    }
  }
}
