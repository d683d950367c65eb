/**
 * The source of time for every policy decision, in epoch milliseconds (`Date.now()` semantics).
 *
 * Epoch time, not a monotonic clock, because the deadline leaves this module as a `Date` (gRPC's
 * call deadline). The default reads `Date.now()`, which vitest's fake timers also control.
 */
export interface Clock {
  now(): number;
}

/** The real clock. */
export const systemClock: Clock = { now: () => Date.now() };

/**
 * Computes a call's deadline: now plus the smaller of the service's timeout and the Lambda's
 * remaining time minus the safety margin (DESIGN.md: no mesh call may outlive its Lambda).
 *
 * The result may lie in the past when the Lambda is nearly out of time; the caller decides
 * whether enough is left to start.
 */
export function callDeadline(
  now: number,
  limits: { timeoutSeconds: number; safetyMarginMs: number },
  remainingTimeMs?: () => number,
): number {
  const serviceBudget = limits.timeoutSeconds * 1000;
  const lambdaBudget = remainingTimeMs ? remainingTimeMs() - limits.safetyMarginMs : Number.POSITIVE_INFINITY;
  return now + Math.min(serviceBudget, lambdaBudget);
}

/** An AbortSignal that fires at a deadline or when a parent signal fires, whichever comes first. */
export interface DeadlineSignal {
  readonly signal: AbortSignal;
  /** True once the deadline (not the parent) aborted the signal. */
  readonly expired: boolean;
  /** Clears the timer and the parent listener; call it when the call settles. */
  dispose(): void;
}

/**
 * Opens a signal that aborts at `deadline` (epoch ms on `clock`) or when `parent` aborts.
 *
 * `AbortSignal.timeout` is not used: fake timers cannot drive it and it cannot be cleared. The
 * timer is unref'd and cleared by `dispose`, so a settled call never keeps a Lambda alive.
 */
export function openDeadlineSignal(deadline: number, clock: Clock, parent?: AbortSignal): DeadlineSignal {
  const controller = new AbortController();
  let expired = false;
  const onParentAbort = (): void => controller.abort(parent?.reason);
  const timer = setTimeout(
    () => {
      expired = true;
      controller.abort(new DOMException('the call deadline passed', 'TimeoutError'));
    },
    Math.max(0, deadline - clock.now()),
  );
  timer.unref?.();
  if (parent?.aborted) {
    onParentAbort();
  } else {
    parent?.addEventListener('abort', onParentAbort, { once: true });
  }
  return {
    signal: controller.signal,
    get expired() {
      return expired;
    },
    dispose() {
      clearTimeout(timer);
      parent?.removeEventListener('abort', onParentAbort);
    },
  };
}
