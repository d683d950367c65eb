import { IdentityError } from '../errors.js';
import type { SvidFetcher } from './svid-fetcher.js';
import { sameSvid, type SvidMaterial } from './svid-material.js';

export interface IdentitySourceOptions {
  /** Refresh once this fraction of the SVID's lifetime has passed (SPIRE rotates around half-life). */
  refreshFraction: number;
  /** Never fetch more often than this, also the back-off after a failed refresh. */
  minRefreshIntervalMs: number;
  /** Milliseconds since the epoch; injectable for tests. */
  now: () => number;
}

export const IDENTITY_SOURCE_DEFAULTS: IdentitySourceOptions = {
  refreshFraction: 0.5,
  minRefreshIntervalMs: 30_000,
  now: Date.now,
};

export type RotationListener = (current: SvidMaterial, previous: SvidMaterial | undefined) => void;
export type RefreshErrorListener = (error: unknown, lastGood: SvidMaterial) => void;

/**
 * The function's SVID, cached per container: fetched once, reused across warm invocations,
 * refreshed ahead of expiry and on demand. A failed refresh keeps serving the last good SVID while
 * it is valid; errors are never cached. Subscribers hear of every new SVID (the transport builds
 * new TLS contexts from it).
 *
 * Refreshes happen inside {@link current}, never on a timer: a frozen Lambda runs no timers, and a
 * pending timer or promise must not outlive the invocation.
 */
export class IdentitySource {
  readonly description: string;
  readonly #fetch: SvidFetcher;
  readonly #options: IdentitySourceOptions;
  readonly #rotationListeners = new Set<RotationListener>();
  readonly #errorListeners = new Set<RefreshErrorListener>();
  #material: SvidMaterial | undefined;
  #nextRefreshAt = 0;
  #inFlight: Promise<SvidMaterial> | undefined;
  #fetches = 0;

  constructor(fetch: SvidFetcher, description: string, options: Partial<IdentitySourceOptions> = {}) {
    this.#fetch = fetch;
    this.description = description;
    this.#options = { ...IDENTITY_SOURCE_DEFAULTS, ...options };
  }

  /**
   * The current SVID material, fetching or refreshing it first when due.
   *
   * @throws {IdentityError} the fetch error when nothing was loaded yet, or `IDENTITY_EXPIRED` when
   *   the refresh failed and the last good SVID has expired.
   */
  async current(): Promise<SvidMaterial> {
    const material = this.#material;
    if (material && this.#options.now() < this.#nextRefreshAt) return material;
    return this.refresh();
  }

  /** The cached material without any I/O, or `undefined` before the first load. */
  peek(): SvidMaterial | undefined {
    return this.#material;
  }

  /** How many times the source was read; for tests and the benchmark. */
  get fetchCount(): number {
    return this.#fetches;
  }

  /**
   * Fetches now (one fetch in flight at a time), keeping the last good SVID if the fetch fails.
   *
   * @throws {IdentityError} as {@link current}.
   */
  refresh(): Promise<SvidMaterial> {
    this.#inFlight ??= this.#load().finally(() => {
      this.#inFlight = undefined;
    });
    return this.#inFlight;
  }

  /** Calls `listener` with every new SVID; returns the unsubscribe function. */
  subscribe(listener: RotationListener): () => void {
    this.#rotationListeners.add(listener);
    return () => this.#rotationListeners.delete(listener);
  }

  /** Calls `listener` when a refresh fails but the last good SVID is still served. */
  onRefreshError(listener: RefreshErrorListener): () => void {
    this.#errorListeners.add(listener);
    return () => this.#errorListeners.delete(listener);
  }

  async #load(): Promise<SvidMaterial> {
    const previous = this.#material;
    const now = this.#options.now();
    let fetched: SvidMaterial;
    try {
      this.#fetches++;
      fetched = await this.#fetch();
    } catch (error) {
      if (!previous) throw error;
      if (previous.svid.notAfter.getTime() <= now) {
        throw new IdentityError(
          'IDENTITY_EXPIRED',
          `svid ${previous.svid.id.toString()} from ${this.description} expired at ${previous.svid.notAfter.toISOString()} and the refresh failed`,
          { cause: error },
        );
      }
      this.#nextRefreshAt = now + this.#options.minRefreshIntervalMs;
      for (const listener of this.#errorListeners) listener(error, previous);
      return previous;
    }
    this.#nextRefreshAt = this.#refreshTime(fetched, now);
    if (previous && sameSvid(previous, fetched)) return previous;
    this.#material = fetched;
    for (const listener of this.#rotationListeners) listener(fetched, previous);
    return fetched;
  }

  /** Next refresh at the configured fraction of the lifetime, but never sooner than the minimum interval. */
  #refreshTime(material: SvidMaterial, now: number): number {
    const notBefore = material.svid.notBefore.getTime();
    const notAfter = material.svid.notAfter.getTime();
    const due = notBefore + (notAfter - notBefore) * this.#options.refreshFraction;
    return Math.min(Math.max(due, now + this.#options.minRefreshIntervalMs), notAfter);
  }
}
