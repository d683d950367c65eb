import { ConfigError } from '../errors.js';

/** How one service's calls are bounded: deadline, retry, circuit breaker and bulkhead. */
export interface ResilienceOptions {
  /** The mesh service these options apply to; named in every error and event. */
  service: string;
  /** Per-service cap on a call's deadline, in seconds (`EXTERNAL_SERVICES_<NAME>_TIMEOUT_SECONDS`). */
  timeoutSeconds: number;
  /** Subtracted from the Lambda's remaining time so the handler still has time to answer. */
  safetyMarginMs: number;
  /** A call (or retry) with less time than this before its deadline is not started. */
  minAttemptMs: number;
  retry: {
    /** Retries after the first attempt (cockatiel counts the same way); 0 disables retries. */
    maxAttempts: number;
    initialDelayMs: number;
    maxDelayMs: number;
  };
  circuitBreaker: {
    /** Consecutive transport failures that open the breaker. */
    failureThreshold: number;
    /** Successful half-open probes that close it again. */
    successThreshold: number;
    /** Seconds the breaker stays open before it lets probes through. */
    timeoutSeconds: number;
    /** Probes allowed in flight at once while half-open; extra calls fail fast. */
    halfOpenMaxCalls: number;
  };
  /** Bulkhead: calls in flight at once for this service. */
  maxConcurrentCalls: number;
  /** Bulkhead: calls waiting for a slot; beyond this a call is rejected (`MESH_BULKHEAD_FULL`). */
  maxQueued: number;
}

/** The mesh's defaults (DESIGN.md, resilience row); every other value is an override of these. */
export const RESILIENCE_DEFAULTS: Readonly<Omit<ResilienceOptions, 'service'>> = Object.freeze({
  timeoutSeconds: 10,
  safetyMarginMs: 500,
  minAttemptMs: 50,
  retry: Object.freeze({ maxAttempts: 2, initialDelayMs: 50, maxDelayMs: 1000 }),
  circuitBreaker: Object.freeze({ failureThreshold: 5, successThreshold: 2, timeoutSeconds: 60, halfOpenMaxCalls: 3 }),
  maxConcurrentCalls: 16,
  maxQueued: 256,
});

/** Overrides for one service: any option, nested groups field by field; `service` is required. */
export type ResilienceOverrides = Partial<Omit<ResilienceOptions, 'service' | 'retry' | 'circuitBreaker'>> & {
  service: string;
  retry?: Partial<ResilienceOptions['retry']>;
  circuitBreaker?: Partial<ResilienceOptions['circuitBreaker']>;
};

/**
 * Merges overrides onto {@link RESILIENCE_DEFAULTS} and checks every value.
 *
 * @throws {ConfigError} `CONFIG_INVALID` naming the option and its value when one is out of range.
 */
export function resolveResilienceOptions(overrides: ResilienceOverrides): ResilienceOptions {
  const options: ResilienceOptions = {
    ...RESILIENCE_DEFAULTS,
    ...overrides,
    retry: { ...RESILIENCE_DEFAULTS.retry, ...overrides.retry },
    circuitBreaker: { ...RESILIENCE_DEFAULTS.circuitBreaker, ...overrides.circuitBreaker },
  };
  if (options.service.length === 0) {
    throw new ConfigError('CONFIG_INVALID', 'resilience option service must be a non-empty service name');
  }
  const { retry, circuitBreaker: breaker } = options;
  requireNumber('timeoutSeconds', options.timeoutSeconds, { min: 0, exclusiveMin: true });
  requireNumber('safetyMarginMs', options.safetyMarginMs, { min: 0 });
  requireNumber('minAttemptMs', options.minAttemptMs, { min: 0 });
  requireNumber('retry.maxAttempts', retry.maxAttempts, { min: 0, integer: true });
  requireNumber('retry.initialDelayMs', retry.initialDelayMs, { min: 0 });
  requireNumber('retry.maxDelayMs', retry.maxDelayMs, { min: retry.initialDelayMs });
  requireNumber('circuitBreaker.failureThreshold', breaker.failureThreshold, { min: 1, integer: true });
  requireNumber('circuitBreaker.successThreshold', breaker.successThreshold, { min: 1, integer: true });
  requireNumber('circuitBreaker.timeoutSeconds', breaker.timeoutSeconds, { min: 0 });
  requireNumber('circuitBreaker.halfOpenMaxCalls', breaker.halfOpenMaxCalls, { min: 1, integer: true });
  requireNumber('maxConcurrentCalls', options.maxConcurrentCalls, { min: 1, integer: true });
  requireNumber('maxQueued', options.maxQueued, { min: 0, integer: true });
  return options;
}

function requireNumber(
  key: string,
  value: number,
  rule: { min: number; exclusiveMin?: boolean; integer?: boolean },
): void {
  const belowMin = rule.exclusiveMin ? value <= rule.min : value < rule.min;
  if (!Number.isFinite(value) || belowMin || (rule.integer && !Number.isInteger(value))) {
    const kind = rule.integer ? 'an integer' : 'a number';
    const bound = rule.exclusiveMin ? `greater than ${rule.min}` : `at least ${rule.min}`;
    throw new ConfigError('CONFIG_INVALID', `resilience option ${key} must be ${kind} ${bound}, got ${value}`);
  }
}
