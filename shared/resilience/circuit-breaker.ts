import {
  BrokenCircuitError,
  EventEmitter,
  type IDefaultPolicyContext,
  type IFailureEvent,
  type IPolicy,
  type ISuccessEvent,
} from 'cockatiel';
import type { BreakerOutcome } from './classify-failure.js';
import { systemClock, type Clock } from './deadline.js';

/** The breaker's state as reported to metrics and listeners. */
export type BreakerStateName = 'closed' | 'open' | 'half-open';

/** Returns the `circuit_breaker_state` metric value: 0 closed, 1 open, 2 half-open (the mesh's own). */
export function breakerStateValue(state: BreakerStateName): 0 | 1 | 2 {
  switch (state) {
    case 'closed':
      return 0;
    case 'open':
      return 1;
    case 'half-open':
      return 2;
  }
}

/** How a {@link CircuitBreaker} opens, probes and closes. */
export interface CircuitBreakerOptions {
  failureThreshold: number;
  successThreshold: number;
  /** Milliseconds from opening (or from the last failed probe) until probes are let through. */
  openMs: number;
  halfOpenMaxCalls: number;
  /** Decides what a thrown error means for the breaker (see `breakerOutcome`). */
  outcomeOf: (error: unknown) => BreakerOutcome;
}

/** Thrown instead of calling the function while the breaker is open or its probe slots are taken. */
export class CircuitOpenError extends BrokenCircuitError {
  constructor(
    /** `slow-start`: closed, but ramping up after an outage, and this call is over the ramp. */
    readonly state: 'open' | 'half-open' | 'slow-start',
    /** Milliseconds until the breaker lets probes through again (0 while half-open). */
    readonly retryAfterMs: number,
  ) {
    super(
      state === 'open'
        ? `circuit breaker is open, probes allowed in ${retryAfterMs} ms`
        : state === 'half-open'
          ? 'circuit breaker is half-open and every probe slot is taken'
          : 'circuit breaker closed recently and admits only part of the calls while traffic ramps up',
    );
    this.name = 'CircuitOpenError';
  }
}

/**
 * Each state carries only what it needs; a call remembers the state object that admitted it, so
 * a result arriving after the breaker moved on (a late probe, a call from before it opened) is
 * recognised by identity and ignored.
 */
type BreakerState =
  | { readonly name: 'closed'; consecutiveFailures: number }
  | { readonly name: 'open'; readonly openedAt: number }
  | { readonly name: 'half-open'; inFlight: number; successes: number };

const neverAborted = new AbortController().signal;

/**
 * A consecutive-failure circuit breaker that fails fast while half-open, as a cockatiel policy.
 *
 * Why not cockatiel's `circuitBreaker(…, { breaker: new ConsecutiveBreaker(n) })`: (1) while
 * half-open it queues extra calls until the probes decide, where the mesh needs them rejected at
 * once; (2) it closes after `halfOpenSampling.calls` completed probes, not after N successes among
 * at most M concurrent probes; (3) errors its filter does not handle bypass `breaker.success()`
 * while closed, so an application error (NOT_FOUND) would not reset the failure count. Implementing
 * `IPolicy` keeps it composable with cockatiel's `wrap`, retry and bulkhead.
 *
 * Open → half-open is derived from the clock when the breaker is next used or read, not by a
 * timer: no timer outlives a call, and a Lambda frozen past the timeout still sees the right state.
 */
export class CircuitBreaker implements IPolicy<IDefaultPolicyContext> {
  declare readonly _altReturn: never;
  private inner: BreakerState = { name: 'closed', consecutiveFailures: 0 };
  private readonly successEmitter = new EventEmitter<ISuccessEvent>();
  private readonly failureEmitter = new EventEmitter<IFailureEvent>();
  private readonly stateEmitter = new EventEmitter<{ from: BreakerStateName; to: BreakerStateName }>();

  /** @inheritdoc */
  readonly onSuccess = this.successEmitter.addListener;
  /** Fires for every call that failed; `handled` is true when it counted as a breaker failure. */
  readonly onFailure = this.failureEmitter.addListener;
  /** Fires on every transition, including the lazily derived open → half-open. */
  readonly onStateChange = this.stateEmitter.addListener;

  constructor(
    private readonly options: CircuitBreakerOptions,
    private readonly clock: Clock = systemClock,
  ) {}

  /** The current state; reading it performs a due open → half-open transition. */
  get state(): BreakerStateName {
    return this.refresh().name;
  }

  /**
   * Runs `fn` if the breaker admits it and records the outcome.
   *
   * @throws {CircuitOpenError} when open, or when half-open with every probe slot in use.
   */
  async execute<T>(fn: (context: IDefaultPolicyContext) => PromiseLike<T> | T, signal = neverAborted): Promise<T> {
    const admittedBy = this.admit();
    const startedAt = this.clock.now();
    try {
      const value = await fn({ signal });
      this.record(admittedBy, 'success');
      this.successEmitter.emit({ duration: this.clock.now() - startedAt });
      return value;
    } catch (error) {
      const outcome = this.options.outcomeOf(error);
      this.record(admittedBy, outcome);
      this.failureEmitter.emit({
        duration: this.clock.now() - startedAt,
        handled: outcome === 'failure',
        reason: { error },
      });
      throw error;
    }
  }

  /**
   * Returns the rejection an open breaker would throw, without taking a probe slot, so a caller
   * can fail fast before waiting for anything else (a bulkhead slot, a backoff).
   */
  rejectionIfOpen(): CircuitOpenError | undefined {
    const state = this.refresh();
    return state.name === 'open' ? this.openRejection(state) : undefined;
  }

  private openRejection(state: { openedAt: number }): CircuitOpenError {
    return new CircuitOpenError('open', Math.max(0, state.openedAt + this.options.openMs - this.clock.now()));
  }

  private refresh(): BreakerState {
    const state = this.inner;
    if (state.name === 'open' && this.clock.now() - state.openedAt >= this.options.openMs) {
      this.transition({ name: 'half-open', inFlight: 0, successes: 0 });
    }
    return this.inner;
  }

  private admit(): BreakerState {
    const state = this.refresh();
    switch (state.name) {
      case 'closed':
        return state;
      case 'open':
        throw this.openRejection(state);
      case 'half-open':
        if (state.inFlight >= this.options.halfOpenMaxCalls) throw new CircuitOpenError('half-open', 0);
        state.inFlight += 1;
        return state;
    }
  }

  private record(admittedBy: BreakerState, outcome: BreakerOutcome): void {
    if (admittedBy !== this.inner) return; // the breaker moved on since this call started
    const state = this.inner;
    switch (state.name) {
      case 'closed':
        if (outcome === 'failure') {
          state.consecutiveFailures += 1;
          if (state.consecutiveFailures >= this.options.failureThreshold) this.open();
        } else if (outcome === 'success') {
          state.consecutiveFailures = 0;
        }
        return;
      case 'half-open':
        state.inFlight -= 1;
        if (outcome === 'failure') {
          this.open(); // a failed probe restarts the open timer
        } else if (outcome === 'success') {
          state.successes += 1;
          if (state.successes >= this.options.successThreshold) {
            this.transition({ name: 'closed', consecutiveFailures: 0 });
          }
        }
        return;
      case 'open':
        return; // unreachable: open admits nothing
    }
  }

  private open(): void {
    this.transition({ name: 'open', openedAt: this.clock.now() });
  }

  private transition(next: BreakerState): void {
    const from = this.inner.name;
    this.inner = next;
    this.stateEmitter.emit({ from, to: next.name });
  }
}
