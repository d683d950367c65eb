import type { Event, IDefaultPolicyContext, IPolicy } from 'cockatiel';
import type { BreakerStateName, CircuitBreakerOptions, CircuitOpenError } from './circuit-breaker.js';
import type { Clock } from './deadline.js';

/** A transition as a breaker reports it. */
export interface BreakerTransition {
  from: BreakerStateName;
  to: BreakerStateName;
}

/** A failed read or write of a shared breaker's store: the breaker went on with its local state. */
export interface BreakerStoreFailure {
  service: string;
  /** What the breaker tried: `read`, `open`, `elect prober`, `close`, `reopen`. */
  operation: string;
  error: unknown;
}

/**
 * What a {@link ServicePolicy} needs of its circuit breaker: the per-container
 * {@link CircuitBreaker}, or the fleet's `SharedCircuitBreaker`.
 */
export interface ServiceBreaker extends IPolicy<IDefaultPolicyContext> {
  /** The state as this container knows it, without touching any store. */
  readonly state: BreakerStateName;
  /** The rejection an open breaker would throw now, without taking a probe slot. */
  rejectionIfOpen(): CircuitOpenError | undefined;
  readonly onStateChange: Event<BreakerTransition>;
  /**
   * Brings the breaker up to date with the fleet when a read is due; undefined when there is
   * nothing to wait for (so the healthy path awaits nothing). Never rejects.
   */
  sync?(): Promise<void> | undefined;
  /** Fires when the store could not be read or written. */
  readonly onStoreError?: Event<BreakerStoreFailure>;
}

/** Builds a service's breaker from its options; the default builds a per-container {@link CircuitBreaker}. */
export type BreakerFactory = (options: CircuitBreakerOptions & { service: string }, clock: Clock) => ServiceBreaker;
