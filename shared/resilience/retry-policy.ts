import { status } from '@grpc/grpc-js';
import {
  ExponentialBackoff,
  handleWhen,
  retry,
  type IBackoff,
  type IRetryBackoffContext,
  type RetryPolicy,
} from 'cockatiel';
import { classifyFailure, grpcCodeOf } from './classify-failure.js';
import type { Clock } from './deadline.js';
import type { ResilienceOptions } from './options.js';

/**
 * Statuses worth another attempt: the request did not take effect or the server asked us to back
 * off. DEADLINE_EXCEEDED is in the list, but since every attempt shares the call's deadline it is
 * only retried when the budget check below still finds time (e.g. a server-side deadline fired).
 */
const RETRYABLE_CODES: ReadonlySet<number> = new Set([
  status.UNAVAILABLE,
  status.RESOURCE_EXHAUSTED,
  status.DEADLINE_EXCEEDED,
]);

/**
 * True when another attempt may succeed: a retryable status, or a stream broken under the call
 * (grpc-js reports a server that stops mid-call as `INTERNAL: Received RST_STREAM with code 0`,
 * not `UNAVAILABLE`). Only idempotent calls get here, so a repeat cannot double an effect.
 */
function isRetryable(error: unknown): boolean {
  const code = grpcCodeOf(error);
  if (code === undefined) return false;
  if (RETRYABLE_CODES.has(code)) return true;
  return (code === status.INTERNAL || code === status.UNKNOWN) && classifyFailure(error) === 'transport';
}

/** One call's retry state: its deadline and where its jittered backoff has got to. */
export interface RetryBudget {
  /** The call's deadline, epoch ms on the service's clock. */
  readonly deadline: number;
  /** The backoff state of the last retry planned; none before the first. */
  backoff?: IBackoff<unknown>;
}

/** What the service's retries need besides its options. */
export interface ServiceRetriesScope {
  /** True when the breaker would reject the next attempt; retrying then only burns backoff. */
  breakerOpen: () => boolean;
  clock: Clock;
}

/**
 * The retries of one service's idempotent calls: exponential backoff with decorrelated jitter,
 * only for retryable statuses, never past the call's deadline, never into an open breaker, and
 * at most `maxAttempts` retries (cockatiel's own default is to retry forever).
 *
 * One cockatiel policy serves every call of the service, built once: building a retry policy per
 * call cost more CPU than the rest of the policy together (`npm run bench`). Its decisions still
 * depend on the call, whose deadline cockatiel cannot see: cockatiel decides to retry (error
 * filter) before it draws the delay (backoff), and neither is told which call failed. So the
 * call's failed attempt asks {@link plan} first, which draws the call's next jittered delay,
 * refuses the retry when the wait plus `minAttemptMs` would end past the deadline, and files the
 * delay under the error object itself; the shared filter then retries exactly the errors that
 * have a plan, and the shared backoff replays (and removes) their delay. A plan lives between an
 * attempt's failure and the retry decision on it, microtasks later, and dies with its error
 * (a WeakMap); grpc-js makes a new error object for every failed call.
 */
export class ServiceRetries {
  /** Runs a call's attempts with retries; wrap it around the breaker so each attempt is counted. */
  readonly policy: RetryPolicy;
  readonly #options: Pick<ResilienceOptions, 'retry' | 'minAttemptMs'>;
  readonly #scope: ServiceRetriesScope;
  readonly #jitter: ExponentialBackoff<unknown>;
  readonly #planned = new WeakMap<object, number>();

  constructor(options: Pick<ResilienceOptions, 'retry' | 'minAttemptMs'>, scope: ServiceRetriesScope) {
    this.#options = options;
    this.#scope = scope;
    this.#jitter = new ExponentialBackoff({ initialDelay: options.retry.initialDelayMs, maxDelay: options.retry.maxDelayMs });
    const planned = this.#planned;
    // The breaker is asked again here, after it has counted the failed attempt: the failure that
    // opens it must not be retried.
    const hasPlan = (error: unknown): boolean => isObject(error) && planned.has(error) && !scope.breakerOpen();
    // Reads the plan once: the same error object may fail a later attempt too and need a new one.
    const replay = (context: IRetryBackoffContext<unknown>): IBackoff<IRetryBackoffContext<unknown>> => {
      const error = 'error' in context.result ? context.result.error : undefined;
      const duration = isObject(error) ? (planned.get(error) ?? 0) : 0;
      if (isObject(error)) planned.delete(error);
      return { duration, next: replay };
    };
    this.policy = retry(handleWhen(hasPlan), { maxAttempts: options.retry.maxAttempts, backoff: { next: replay } });
  }

  /**
   * Decides whether the attempt that failed with `error` is retried, by its status and the call's
   * `budget`, and if so plans the delay before the retry. Call it before rethrowing `error`.
   */
  plan(error: unknown, budget: RetryBudget): void {
    if (!isObject(error)) return;
    this.#planned.delete(error);
    if (!isRetryable(error) || this.#scope.breakerOpen()) return;
    const candidate = budget.backoff ? budget.backoff.next(undefined) : this.#jitter.next();
    const wouldStartAt = this.#scope.clock.now() + candidate.duration;
    if (wouldStartAt + this.#options.minAttemptMs > budget.deadline) return;
    budget.backoff = candidate;
    this.#planned.set(error, candidate.duration);
  }
}

function isObject(value: unknown): value is object {
  return (typeof value === 'object' && value !== null) || typeof value === 'function';
}
