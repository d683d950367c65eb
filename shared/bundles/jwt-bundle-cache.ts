import type { JwtBundle } from '../spiffe/jwt-bundle.js';
import { JwtBundleError } from '../spiffe/jwt-svid-error.js';

/** Fetches the current JWT bundle; must give up when `signal` aborts. */
export type JwtBundleFetch = (signal: AbortSignal) => Promise<JwtBundle>;

export interface JwtBundleCacheOptions {
  /** Seconds between refreshes when the bundle sets no `spiffe_refresh_hint` (bundle spec §6.1: "e.g. five minutes"). */
  defaultRefreshSeconds: number;
  /** The shortest refresh interval whatever the hint says, so a tiny hint cannot make every request fetch. */
  minRefreshSeconds: number;
  /** After a token's unknown `kid` caused a refresh, how long before another unknown `kid` may. */
  unknownKeyCooldownSeconds: number;
  /** After a failed refresh, how long the last good bundle is served before the next attempt. */
  retryAfterFailureSeconds: number;
  /** The longest one fetch may take, before the request's own deadline caps it. */
  fetchTimeoutMs: number;
  /** Epoch milliseconds. */
  now: () => number;
  /** Told when a refresh failed and the last good bundle is kept (for a WARN line). */
  onStale?: (error: unknown, bundle: JwtBundle) => void;
}

export const JWT_BUNDLE_CACHE_DEFAULTS = {
  defaultRefreshSeconds: 300,
  minRefreshSeconds: 5,
  unknownKeyCooldownSeconds: 30,
  retryAfterFailureSeconds: 10,
  fetchTimeoutMs: 5_000,
  now: Date.now,
} as const satisfies Partial<JwtBundleCacheOptions>;

/**
 * One trust domain's JWT bundle, cached per container and refreshed lazily (nothing runs on a
 * timer: a frozen Lambda runs none, and no handler may leave one pending). A refresh falls due
 * after the bundle's `spiffe_refresh_hint` (default 5 min); a token naming a `kid` the bundle does
 * not hold forces one refresh, then no other for a cooldown, so forged `kid`s cannot turn every
 * request into a fetch. At most one fetch is in flight; callers join it, each waiting no longer
 * than its own deadline. When a refresh fails the last good bundle is kept (and retried after a
 * short pause); errors are never cached, so the next due refresh tries again.
 */
export class JwtBundleCache {
  readonly #fetch: JwtBundleFetch;
  readonly #options: JwtBundleCacheOptions;
  #bundle: JwtBundle | undefined;
  #refreshAt = 0;
  #unknownKeyRefreshAt = Number.NEGATIVE_INFINITY;
  /** Until when a failed refresh pauses every other (due or unknown-`kid`) refresh. */
  #pausedUntil = Number.NEGATIVE_INFINITY;
  #inFlight: Promise<JwtBundle> | undefined;
  #fetches = 0;

  constructor(fetch: JwtBundleFetch, opts: Partial<JwtBundleCacheOptions> = {}) {
    this.#fetch = fetch;
    this.#options = { ...JWT_BUNDLE_CACHE_DEFAULTS, ...opts };
  }

  /** How many fetches were started (for tests and the benchmark). */
  get fetches(): number {
    return this.#fetches;
  }

  /** The cached bundle without fetching, if any. */
  peek(): JwtBundle | undefined {
    return this.#bundle;
  }

  /**
   * The current bundle: fetched when there is none or a refresh is due, and refreshed once more
   * when it lacks `keyId` and the cooldown allows.
   *
   * @throws {JwtBundleError} the fetch's error when there is no bundle yet, or `JWT_BUNDLE_TIMEOUT`
   *   when `deadline` (epoch ms) passes first.
   */
  async get(hint: { keyId?: string; deadline?: number } = {}): Promise<JwtBundle> {
    const now = this.#options.now();
    if (this.#bundle === undefined) return this.#refresh(hint.deadline);
    if (now >= this.#refreshAt) await this.#refreshKeepingLastGood(hint.deadline);
    const unknownKey = hint.keyId !== undefined && !this.#bundle.hasAuthority(hint.keyId);
    if (unknownKey && now >= this.#unknownKeyRefreshAt && this.#options.now() >= this.#pausedUntil) {
      this.#unknownKeyRefreshAt = now + this.#options.unknownKeyCooldownSeconds * 1000;
      await this.#refreshKeepingLastGood(hint.deadline);
    }
    return this.#bundle;
  }

  async #refreshKeepingLastGood(deadline: number | undefined): Promise<void> {
    try {
      await this.#refresh(deadline);
    } catch (error) {
      const last = this.#bundle!;
      this.#pausedUntil = this.#options.now() + this.#options.retryAfterFailureSeconds * 1000;
      this.#refreshAt = Math.max(this.#refreshAt, this.#pausedUntil);
      this.#options.onStale?.(error, last);
    }
  }

  /** Joins the fetch in flight or starts one; waits no longer than `deadline`. */
  #refresh(deadline: number | undefined): Promise<JwtBundle> {
    const remaining = (deadline ?? Number.POSITIVE_INFINITY) - this.#options.now();
    if (remaining <= 0) return Promise.reject(timeout(0));
    this.#inFlight ??= this.#start(Math.min(this.#options.fetchTimeoutMs, remaining)).finally(() => {
      this.#inFlight = undefined;
    });
    return remaining >= this.#options.fetchTimeoutMs ? this.#inFlight : withDeadline(this.#inFlight, remaining);
  }

  async #start(timeoutMs: number): Promise<JwtBundle> {
    this.#fetches++;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(timeout(timeoutMs)), timeoutMs);
    try {
      const bundle = await this.#fetch(controller.signal);
      const hint = bundle.refreshHintSeconds ?? this.#options.defaultRefreshSeconds;
      this.#bundle = bundle;
      this.#refreshAt = this.#options.now() + Math.max(hint, this.#options.minRefreshSeconds) * 1000;
      return bundle;
    } catch (error) {
      throw controller.signal.aborted ? controller.signal.reason : error;
    } finally {
      clearTimeout(timer);
    }
  }
}

function timeout(ms: number): JwtBundleError {
  return new JwtBundleError('JWT_BUNDLE_TIMEOUT', `jwt bundle fetch did not finish within the ${ms} ms the request had left`);
}

/** `promise`, or a `JWT_BUNDLE_TIMEOUT` after `ms`; the timer never outlives the wait. */
async function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(timeout(ms)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
