// Per-service call policy (deadline, bulkhead, retry, circuit breaker): re-exports only.
export { breakerOutcome, classifyFailure, grpcCodeOf, type BreakerOutcome } from './classify-failure.js';
export {
  breakerStateValue,
  CircuitBreaker,
  CircuitOpenError,
  type BreakerStateName,
  type CircuitBreakerOptions,
} from './circuit-breaker.js';
export { callDeadline, openDeadlineSignal, systemClock, type Clock, type DeadlineSignal } from './deadline.js';
export {
  RESILIENCE_DEFAULTS,
  resolveResilienceOptions,
  type ResilienceOptions,
  type ResilienceOverrides,
} from './options.js';
export type { BreakerFactory, BreakerStoreFailure, BreakerTransition, ServiceBreaker } from './service-breaker.js';
export * from './shared-breaker/index.js';
export { ServiceRetries, type RetryBudget, type ServiceRetriesScope } from './retry-policy.js';
export {
  ServicePolicy,
  type AttemptEvent,
  type AttemptInfo,
  type BreakerStateChange,
  type CallContext,
} from './service-policy.js';
