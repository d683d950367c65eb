import { status } from '@grpc/grpc-js';
import {
  ExponentialBackoff,
  handleWhen,
  retry,
  type IBackoff,
  type IBackoffFactory,
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

/** What one call's retry policy needs to know beyond the service's options. */
export interface RetryScope {
  /** Only idempotent methods are retried: a lost answer may hide a write that happened. */
  idempotent: boolean;
  /** The call's deadline, epoch ms on `clock`. */
  deadline: number;
  /** True when the breaker would reject the next attempt; retrying then only burns backoff. */
  breakerOpen: () => boolean;
  clock: Clock;
}

/**
 * Creates the retry policy for one call: exponential backoff with decorrelated jitter, only for
 * idempotent calls, only for retryable statuses, and never past the deadline or an open breaker.
 *
 * Built per call because its decisions depend on the call's deadline. cockatiel decides to retry
 * (error filter) before it draws the delay (backoff), so the filter cannot see how long the wait
 * would be. The filter therefore draws the next jittered delay itself, refuses the retry when the
 * wait plus `minAttemptMs` would end past the deadline, and the backoff handed to cockatiel
 * replays exactly that delay.
 */
export function createRetryPolicy(
  options: Pick<ResilienceOptions, 'retry' | 'minAttemptMs'>,
  scope: RetryScope,
): RetryPolicy {
  const maxAttempts = scope.idempotent ? options.retry.maxAttempts : 0;
  if (maxAttempts === 0) return retry(handleWhen(() => false), { maxAttempts: 0 });

  const jitter = new ExponentialBackoff({
    initialDelay: options.retry.initialDelayMs,
    maxDelay: options.retry.maxDelayMs,
  });
  let position: IBackoff<unknown> | undefined;
  let plannedDelay = 0;
  const replay: IBackoff<IRetryBackoffContext<unknown>> = {
    get duration() {
      return plannedDelay;
    },
    next: () => replay,
  };
  const plannedBackoff: IBackoffFactory<IRetryBackoffContext<unknown>> = { next: () => replay };

  const shouldRetry = (error: unknown): boolean => {
    if (!isRetryable(error) || scope.breakerOpen()) return false;
    const candidate = position ? position.next(undefined) : jitter.next();
    const wouldStartAt = scope.clock.now() + candidate.duration;
    if (wouldStartAt + options.minAttemptMs > scope.deadline) return false;
    position = candidate;
    plannedDelay = candidate.duration;
    return true;
  };

  // maxAttempts is always explicit: cockatiel's own default is to retry forever.
  return retry(handleWhen(shouldRetry), { maxAttempts, backoff: plannedBackoff });
}
