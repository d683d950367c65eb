export interface CachedSecretOptions {
  /** A fetched value is served this long; the first use after that refetches it. */
  ttlMs: number;
  /** After a failed refresh, the last good value is served this long before the next attempt. */
  retryAfterFailureMs: number;
  /** Milliseconds since the epoch; injectable for tests. */
  now: () => number;
}

export const CACHED_SECRET_DEFAULTS: CachedSecretOptions = {
  ttlMs: 5 * 60_000,
  retryAfterFailureMs: 30_000,
  now: () => Date.now(),
};

export type SecretRefreshErrorListener = (error: unknown) => void;

/**
 * A secret value cached per container: fetched on first use, reused across warm invocations and
 * refetched on the first use after its TTL. A failed refresh keeps serving the last good value
 * (retrying after `retryAfterFailureMs`); a failed first fetch throws and is never cached, so the
 * next use fetches again. One fetch is in flight at a time.
 *
 * Refreshes happen inside {@link get}, never on a timer: a frozen Lambda runs no timers, and a
 * pending timer or promise must not outlive the invocation.
 */
export class CachedSecret<T> {
  readonly #fetch: () => Promise<T>;
  readonly #options: CachedSecretOptions;
  readonly #errorListeners = new Set<SecretRefreshErrorListener>();
  #value: { current: T } | undefined;
  #nextRefreshAt = 0;
  #inFlight: Promise<T> | undefined;
  #fetches = 0;

  constructor(fetch: () => Promise<T>, options: Partial<CachedSecretOptions> = {}) {
    this.#fetch = fetch;
    this.#options = { ...CACHED_SECRET_DEFAULTS, ...options };
  }

  /**
   * The current value, fetching it first when nothing is cached or the TTL has passed.
   *
   * @throws whatever the fetch function throws, when there is no last good value to serve.
   */
  async get(): Promise<T> {
    if (this.#value && this.#options.now() < this.#nextRefreshAt) return this.#value.current;
    return this.refresh();
  }

  /**
   * Fetches now (joining a fetch already in flight), keeping the last good value if it fails.
   *
   * @throws as {@link get}.
   */
  refresh(): Promise<T> {
    this.#inFlight ??= this.#load().finally(() => {
      this.#inFlight = undefined;
    });
    return this.#inFlight;
  }

  /** Calls `listener` when a refresh fails and the last good value is served instead; returns the unsubscribe function. */
  onRefreshError(listener: SecretRefreshErrorListener): () => void {
    this.#errorListeners.add(listener);
    return () => this.#errorListeners.delete(listener);
  }

  /** How many times the fetch function was called; for tests. */
  get fetchCount(): number {
    return this.#fetches;
  }

  async #load(): Promise<T> {
    const previous = this.#value;
    this.#fetches++;
    try {
      const current = await this.#fetch();
      this.#value = { current };
      this.#nextRefreshAt = this.#options.now() + this.#options.ttlMs;
      return current;
    } catch (error) {
      if (!previous) throw error;
      this.#nextRefreshAt = this.#options.now() + this.#options.retryAfterFailureMs;
      for (const listener of this.#errorListeners) listener(error);
      return previous.current;
    }
  }
}
