import { bulkhead, wrap, type BulkheadPolicy, type IPolicy } from 'cockatiel';
import type { MeshCallError } from '../errors.js';
import { breakerOutcome } from './classify-failure.js';
import { CircuitBreaker, type BreakerStateName } from './circuit-breaker.js';
import type { BreakerFactory, BreakerStoreFailure, ServiceBreaker } from './service-breaker.js';
import { callDeadline, openDeadlineSignal, systemClock, type Clock, type DeadlineSignal } from './deadline.js';
import { resolveResilienceOptions, type ResilienceOptions, type ResilienceOverrides } from './options.js';
import { cancelledError, noTimeLeftError, toPolicyRejection, type CallSite } from './policy-rejections.js';
import { ServiceRetries, type RetryBudget } from './retry-policy.js';

/** One mesh call as the policy sees it. */
export interface CallContext {
  method: string;
  /** Only idempotent methods are retried. */
  idempotent: boolean;
  /** The Lambda's `context.getRemainingTimeInMillis`; without it only the service timeout applies. */
  remainingTimeMs?: () => number;
  /** The caller's cancellation; aborting it aborts the attempt in flight. */
  signal?: AbortSignal;
}

/** What each attempt receives. */
export interface AttemptInfo {
  /** The call's overall deadline, for the gRPC layer's call deadline; the same for every attempt. */
  deadline: Date;
  /** 1 for the first attempt, 2 for the first retry, … */
  attempt: number;
  /**
   * Fires when the caller cancels, and at the deadline for a call that had to queue for a bulkhead
   * slot. The attempt itself must end at `deadline` (gRPC does, given it as the call deadline).
   */
  signal: AbortSignal;
}

/** A breaker transition, as told to `onStateChange` listeners (e.g. the `circuit_breaker_state` metric). */
export interface BreakerStateChange {
  service: string;
  from: BreakerStateName;
  to: BreakerStateName;
}

/** One finished attempt, as told to `onAttempt` listeners (request counters, durations, logs). */
export interface AttemptEvent {
  service: string;
  method: string;
  attempt: number;
  durationMs: number;
  error?: unknown;
  outcome: 'ok' | 'error';
}

/** One call in flight: what its attempts share. */
interface CallRun<T> extends RetryBudget {
  readonly call: CallContext;
  readonly attempt: (info: AttemptInfo) => Promise<T>;
  /** Only for a call that had to queue for a bulkhead slot (see {@link ServicePolicy.execute}). */
  readonly deadlineSignal?: DeadlineSignal;
  attempts: number;
  lastError?: unknown;
}

/**
 * Runs every call to one mesh service through deadline → bulkhead → retry → circuit breaker.
 *
 * One instance per service, kept in module scope so breaker and bulkhead state survive warm
 * invocations and one service's outage never trips another's breaker. Errors from attempts pass
 * through unchanged (the transport layer maps gRPC statuses); only the policy's own rejections are
 * `MeshCallError`s: `MESH_NO_TIME_LEFT`, `MESH_BREAKER_OPEN`, `MESH_BULKHEAD_FULL`, `MESH_CANCELLED`.
 *
 * Everything a call passes through is built once per service, and a call that finds a free
 * bulkhead slot (nearly all of them) starts no timer: gRPC enforces the deadline of each attempt,
 * and a retry is only planned when its backoff ends before the deadline. Only a call that must
 * queue gets a timer, to stop waiting at its deadline.
 */
export class ServicePolicy {
  readonly service: string;
  readonly options: Readonly<ResilienceOptions>;
  private readonly breaker: ServiceBreaker;
  private readonly bulkhead: BulkheadPolicy;
  private readonly retries: ServiceRetries;
  /** Retry outside the breaker: every attempt is counted by it, and an open breaker ends retries. */
  private readonly retryingBreaker: IPolicy;
  private readonly stateListeners = new Set<(change: BreakerStateChange) => void>();
  private readonly attemptListeners = new Set<(event: AttemptEvent) => void>();

  /**
   * @param breakerOf builds the breaker (a `SharedCircuitBreaker` for a fleet-wide one); by
   *   default a per-container {@link CircuitBreaker}.
   * @throws {ConfigError} `CONFIG_INVALID` when an option is out of range.
   */
  constructor(
    options: ResilienceOverrides,
    private readonly clock: Clock = systemClock,
    breakerOf: BreakerFactory = (breakerOptions, breakerClock) => new CircuitBreaker(breakerOptions, breakerClock),
  ) {
    this.options = resolveResilienceOptions(options);
    this.service = this.options.service;
    const { circuitBreaker } = this.options;
    this.breaker = breakerOf(
      {
        service: this.service,
        failureThreshold: circuitBreaker.failureThreshold,
        successThreshold: circuitBreaker.successThreshold,
        openMs: circuitBreaker.timeoutSeconds * 1000,
        halfOpenMaxCalls: circuitBreaker.halfOpenMaxCalls,
        outcomeOf: breakerOutcome,
      },
      clock,
    );
    this.breaker.onStateChange(({ from, to }) => notify(this.stateListeners, { service: this.service, from, to }));
    this.bulkhead = bulkhead(this.options.maxConcurrentCalls, this.options.maxQueued);
    this.retries = new ServiceRetries(this.options, { breakerOpen: () => this.breaker.state === 'open', clock });
    this.retryingBreaker = wrap(this.retries.policy, this.breaker);
  }

  /** The breaker's current state; half-open as soon as the open timeout has elapsed. */
  get state(): BreakerStateName {
    return this.breaker.state;
  }

  /** Subscribes to breaker transitions; returns the unsubscribe function. */
  onStateChange(listener: (change: BreakerStateChange) => void): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  /** Subscribes to failed reads and writes of a shared breaker's store; returns the unsubscribe function. */
  onStoreError(listener: (failure: BreakerStoreFailure) => void): () => void {
    const subscription = this.breaker.onStoreError?.((failure) => notify(new Set([listener]), failure));
    return () => subscription?.dispose();
  }

  /**
   * Brings a shared breaker up to date with the fleet when its read is due (at a cold start, to
   * overlap it with the SVID fetch); undefined for a per-container breaker. Never rejects.
   */
  syncBreaker(): Promise<void> | undefined {
    return this.breaker.sync?.();
  }

  /** Subscribes to every attempt's end (for metrics and logs); returns the unsubscribe function. */
  onAttempt(listener: (event: AttemptEvent) => void): () => void {
    this.attemptListeners.add(listener);
    return () => this.attemptListeners.delete(listener);
  }

  /**
   * Runs `attempt` under this service's policy and returns its result.
   *
   * @throws {MeshCallError} `MESH_NO_TIME_LEFT` when less than `minAttemptMs` is left before the
   *   deadline (nothing is sent), `MESH_BREAKER_OPEN`, `MESH_BULKHEAD_FULL`, or `MESH_CANCELLED`
   *   when the caller aborted before an attempt started.
   * @throws the last attempt's own error, unchanged, when attempts ran and none succeeded.
   */
  async execute<T>(call: CallContext, attempt: (info: AttemptInfo) => Promise<T>): Promise<T> {
    const now = this.clock.now();
    const deadline = callDeadline(now, this.options, call.remainingTimeMs);
    const msLeft = deadline - now;
    if (msLeft < this.options.minAttemptMs) throw noTimeLeftError(this.callSite(call), msLeft, this.options.minAttemptMs);
    if (call.signal?.aborted) throw cancelledError(this.callSite(call), call.signal.reason);
    // A shared breaker reads the fleet's state once per interval; every other call awaits nothing.
    const syncing = this.breaker.sync?.();
    if (syncing) await syncing;
    // Fail fast before queueing for a bulkhead slot only to be rejected by the breaker behind it.
    const openRejection = this.breaker.rejectionIfOpen();
    if (openRejection) throw toPolicyRejection(openRejection, this.callSite(call), this.options);

    // A free slot is taken synchronously by `bulkhead.execute`, so nothing can take it in between.
    const mustQueue = this.bulkhead.executionSlots === 0;
    const run: CallRun<T> = {
      call,
      attempt,
      deadline,
      attempts: 0,
      ...(mustQueue ? { deadlineSignal: openDeadlineSignal(deadline, this.clock, call.signal) } : {}),
    };
    try {
      if (!run.deadlineSignal) return await this.bulkhead.execute(() => this.runAttempts(run), call.signal);
      return await this.waitInBulkhead(run, run.deadlineSignal);
    } catch (error) {
      throw toPolicyRejection(error, this.callSite(call), this.options);
    } finally {
      run.deadlineSignal?.dispose();
    }
  }

  private callSite(call: CallContext): CallSite {
    return { service: this.service, method: call.method };
  }

  /**
   * cockatiel's bulkhead notices an aborted signal only when a slot frees up; a queued call must
   * not outlive its deadline, so stop waiting as soon as the signal fires (the queue entry is then
   * discarded unrun by cockatiel when its turn comes).
   */
  private waitInBulkhead<T>(run: CallRun<T>, deadlineSignal: DeadlineSignal): Promise<T> {
    const { signal } = deadlineSignal;
    let admitted = false;
    const admittedRun = this.bulkhead.execute(() => {
      admitted = true;
      return this.runAttempts(run);
    }, signal);
    return new Promise<T>((resolve, reject) => {
      const stopWaiting = (): void => {
        if (!admitted) reject(this.notStarted(run));
      };
      signal.addEventListener('abort', stopWaiting, { once: true });
      void admittedRun.then(resolve, reject).finally(() => signal.removeEventListener('abort', stopWaiting));
    });
  }

  private runAttempts<T>(run: CallRun<T>): Promise<T> {
    const attempts = run.call.idempotent && this.options.retry.maxAttempts > 0 ? this.retryingBreaker : this.breaker;
    return attempts.execute(({ signal }) => this.runAttempt(run, signal), run.deadlineSignal?.signal ?? run.call.signal);
  }

  private async runAttempt<T>(run: CallRun<T>, signal: AbortSignal): Promise<T> {
    if (signal.aborted || run.deadline - this.clock.now() < this.options.minAttemptMs) throw this.notStarted(run, run.lastError);
    run.attempts += 1;
    const info: AttemptInfo = { deadline: new Date(run.deadline), attempt: run.attempts, signal };
    const startedAt = this.clock.now();
    try {
      const value = await run.attempt(info);
      this.emitAttempt(run.call.method, info.attempt, startedAt);
      return value;
    } catch (error) {
      run.lastError = error;
      this.emitAttempt(run.call.method, info.attempt, startedAt, error);
      if (run.call.idempotent) this.retries.plan(error, run);
      throw error;
    }
  }

  private emitAttempt(method: string, attempt: number, startedAt: number, ...failure: [error: unknown] | []): void {
    const durationMs = this.clock.now() - startedAt;
    const event: AttemptEvent =
      failure.length === 0
        ? { service: this.service, method, attempt, durationMs, outcome: 'ok' }
        : { service: this.service, method, attempt, durationMs, error: failure[0], outcome: 'error' };
    notify<AttemptEvent>(this.attemptListeners, event);
  }

  /** Why a call stopped before (another) attempt: its deadline came too close, or the caller left. */
  private notStarted(run: CallRun<unknown>, cause?: unknown): MeshCallError {
    const where = this.callSite(run.call);
    const msLeft = run.deadline - this.clock.now();
    const { minAttemptMs } = this.options;
    if (run.deadlineSignal?.expired || msLeft < minAttemptMs) return noTimeLeftError(where, msLeft, minAttemptMs, cause);
    return cancelledError(where, run.deadlineSignal?.signal.reason ?? run.call.signal?.reason);
  }
}

/** Calls every listener; a failing metrics or log listener must never change a call's outcome. */
function notify<E>(listeners: ReadonlySet<(event: E) => void>, event: E): void {
  for (const listener of listeners) {
    try {
      listener(event);
    } catch (error) {
      process.emitWarning(error instanceof Error ? error : String(error), { code: 'MESH_LISTENER_FAILED' });
    }
  }
}
