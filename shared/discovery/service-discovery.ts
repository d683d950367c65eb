import { DiscoveryError, isDiscoveryError, type SourceFailure } from './discovery-error.js';
import { DISCOVERY_SOURCE_NAMES, type DiscoverySource, type DiscoverySourceName, type DiscoveryTarget } from './discovery-source.js';
import type { Discovery, Resolution, ResolveOptions } from './discovery.js';
import { uniqueAddresses, type ServiceAddress } from './service-address.js';
import { abandonable, withinBudget } from './time-budget.js';

/** Reported when every source failed and the last good result is served instead. */
export interface StaleEvent {
  service: string;
  resolution: Resolution;
  /** How old the served addresses are. */
  ageMs: number;
  failures: readonly SourceFailure[];
}

export interface ServiceDiscoveryOptions {
  /** How long a result is reused (`SERVICE_MESH_DISCOVERY_TTL_SECONDS`). */
  ttlMs: number;
  /** The most one source may take before the next is tried, so an outage never eats the call's deadline. */
  sourceBudgetMs: Record<DiscoverySourceName, number>;
  /** A re-resolution asked for because of failures skips the TTL only when the last look is at least this old. */
  refreshFloorMs: number;
  /** After every source failed, the stale result is served this long (at most the TTL) before trying again. */
  staleRetryMs: number;
  /** Milliseconds; injectable for tests. */
  now: () => number;
  onStale: (event: StaleEvent) => void;
  /** Every source failure, including fallbacks that then succeeded (e.g. Cloud Map throttled, DNS answered). */
  onSourceFailure: (service: string, failure: SourceFailure) => void;
}

export const SERVICE_DISCOVERY_DEFAULTS: ServiceDiscoveryOptions = {
  ttlMs: 30_000,
  sourceBudgetMs: { cloudmap: 1_000, dns: 1_000, static: 1_000 },
  refreshFloorMs: 5_000,
  staleRetryMs: 5_000,
  now: Date.now,
  onStale: (event) => {
    const failures = event.failures.map((f) => `${f.source}: ${f.message}`);
    console.warn(JSON.stringify({ level: 'WARN', message: 'serving stale discovery result', service: event.service, ageMs: event.ageMs, failures }));
  },
  onSourceFailure: () => {},
};

/** Options as callers give them: any of {@link ServiceDiscoveryOptions}, budgets source by source. */
export type ServiceDiscoveryOverrides = Partial<Omit<ServiceDiscoveryOptions, 'sourceBudgetMs'>> & {
  sourceBudgetMs?: Partial<ServiceDiscoveryOptions['sourceBudgetMs']>;
};

/** Counts of one service's lookups; for tests and the benchmark. */
export interface DiscoveryStats {
  lookups: number;
  cacheHits: number;
  fetches: number;
  staleServed: number;
  sourceCalls: Record<DiscoverySourceName, number>;
}

interface Entry {
  good: Resolution | undefined;
  nextLookAt: number;
  lastLookAt: number;
  inFlight: Promise<Resolution> | undefined;
  stats: DiscoveryStats;
}

/**
 * Resolves the configured mesh services through an ordered chain of sources (Cloud Map → DNS →
 * static by default), caching each result per container for the TTL with one lookup in flight
 * per service. A source that fails, times out or knows no instance hands over to the next; when
 * all fail, the last good result is served (and reported through `onStale`) rather than failing
 * calls, and only a service that was never resolved fails, with every source's reason.
 */
export class ServiceDiscovery implements Discovery {
  readonly #targets: ReadonlyMap<string, DiscoveryTarget>;
  readonly #sources: readonly DiscoverySource[];
  readonly #options: ServiceDiscoveryOptions;
  readonly #entries = new Map<string, Entry>();

  constructor(services: Iterable<DiscoveryTarget>, sources: readonly DiscoverySource[], options: ServiceDiscoveryOverrides = {}) {
    this.#targets = new Map([...services].map((s) => [s.name, s]));
    this.#sources = sources;
    const sourceBudgetMs = { ...SERVICE_DISCOVERY_DEFAULTS.sourceBudgetMs, ...options.sourceBudgetMs };
    this.#options = { ...SERVICE_DISCOVERY_DEFAULTS, ...options, sourceBudgetMs };
  }

  /**
   * The instances of `service`, from the cache while it is fresh.
   *
   * @throws {DiscoveryError} `DISCOVERY_UNKNOWN_SERVICE` for a service not in the configuration,
   *   `DISCOVERY_FAILED` when every source failed and there was never a good result,
   *   `DISCOVERY_ABORTED` when `options.signal` aborted first.
   */
  async resolve(service: string, options: ResolveOptions = {}): Promise<Resolution> {
    const target = this.#targets.get(service);
    if (target === undefined) {
      const known = [...this.#targets.keys()].join(', ') || 'none';
      throw new DiscoveryError('DISCOVERY_UNKNOWN_SERVICE', `service ${service} is not configured (configured: ${known})`, { service });
    }
    const entry = this.#entry(service);
    entry.stats.lookups++;
    const now = this.#options.now();
    const forced = options.refresh === true && now - entry.lastLookAt >= this.#options.refreshFloorMs;
    if (entry.good !== undefined && now < entry.nextLookAt && !forced) {
      entry.stats.cacheHits++;
      return entry.good;
    }
    entry.inFlight ??= this.#fetch(target, entry).finally(() => {
      entry.inFlight = undefined;
    });
    const signal = options.signal;
    return abandonable(entry.inFlight, signal, () => {
      return new DiscoveryError('DISCOVERY_ABORTED', `lookup of ${service} was abandoned by its caller`, { service }, { cause: signal?.reason });
    });
  }

  /** The cached result without any I/O, fresh or not; `undefined` before the first success. */
  peek(service: string): Resolution | undefined {
    return this.#entries.get(service)?.good;
  }

  /** Counts of `service`'s lookups so far. */
  stats(service: string): DiscoveryStats {
    const { stats } = this.#entry(service);
    return { ...stats, sourceCalls: { ...stats.sourceCalls } };
  }

  #entry(service: string): Entry {
    let entry = this.#entries.get(service);
    if (entry === undefined) {
      const sourceCalls = Object.fromEntries(DISCOVERY_SOURCE_NAMES.map((n) => [n, 0])) as Record<DiscoverySourceName, number>;
      entry = {
        good: undefined,
        nextLookAt: 0,
        lastLookAt: Number.NEGATIVE_INFINITY,
        inFlight: undefined,
        stats: { lookups: 0, cacheHits: 0, fetches: 0, staleServed: 0, sourceCalls },
      };
      this.#entries.set(service, entry);
    }
    return entry;
  }

  async #fetch(target: DiscoveryTarget, entry: Entry): Promise<Resolution> {
    const { now, ttlMs, staleRetryMs } = this.#options;
    entry.stats.fetches++;
    entry.lastLookAt = now();
    const failures: SourceFailure[] = [];
    const causes: unknown[] = [];
    for (const source of this.#sources) {
      entry.stats.sourceCalls[source.name]++;
      let addresses: ServiceAddress[];
      try {
        addresses = uniqueAddresses(await this.#ask(source, target));
      } catch (error) {
        causes.push(error);
        this.#failed(target.name, failures, failureOf(source.name, error));
        continue;
      }
      if (addresses.length === 0) {
        this.#failed(target.name, failures, { source: source.name, code: 'DISCOVERY_NO_INSTANCES', message: `${source.name} lists no instances of ${target.name}` });
        continue;
      }
      const at = now();
      entry.good = { service: target.name, addresses, source: source.name, resolvedAt: at, expiresAt: at + ttlMs, stale: false };
      entry.nextLookAt = entry.good.expiresAt;
      return entry.good;
    }
    const last = entry.good;
    if (last === undefined) {
      const reasons = failures.map((f) => `${f.source}: ${f.message}`).join('; ') || 'no discovery source is configured';
      throw new DiscoveryError('DISCOVERY_FAILED', `service ${target.name} could not be discovered: ${reasons}`, { service: target.name, failures }, {
        cause: new AggregateError(causes, 'every discovery source failed'),
      });
    }
    const at = now();
    entry.good = { ...last, stale: true, expiresAt: at + Math.min(staleRetryMs, ttlMs) };
    entry.nextLookAt = entry.good.expiresAt;
    entry.stats.staleServed++;
    this.#options.onStale({ service: target.name, resolution: entry.good, ageMs: at - last.resolvedAt, failures });
    return entry.good;
  }

  /** Asks one source, giving up on it (and telling it to stop) once its budget is spent. */
  #ask(source: DiscoverySource, target: DiscoveryTarget): Promise<ServiceAddress[]> {
    const budgetMs = this.#options.sourceBudgetMs[source.name];
    return withinBudget(
      (signal) => source.resolve(target, signal),
      budgetMs,
      () => new DiscoveryError('DISCOVERY_TIMEOUT', `${source.name} gave no answer within its ${budgetMs} ms budget`, { service: target.name }),
    );
  }

  #failed(service: string, failures: SourceFailure[], failure: SourceFailure): void {
    failures.push(failure);
    this.#options.onSourceFailure(service, failure);
  }
}

function failureOf(source: DiscoverySourceName, error: unknown): SourceFailure {
  if (isDiscoveryError(error)) return { source, code: error.code, message: error.message };
  return { source, code: 'DISCOVERY_SOURCE_FAILED', message: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
}
