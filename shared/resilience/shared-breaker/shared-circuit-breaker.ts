import { randomUUID } from 'node:crypto';
import { EventEmitter, type IDefaultPolicyContext, type IFailureEvent, type ISuccessEvent } from 'cockatiel';
import type { BreakerOutcome } from '../classify-failure.js';
import { CircuitOpenError, type BreakerStateName, type CircuitBreakerOptions } from '../circuit-breaker.js';
import { systemClock, type Clock } from '../deadline.js';
import type { BreakerStoreFailure, BreakerTransition, ServiceBreaker } from '../service-breaker.js';
import { fleetStateOf, type FleetBreakerRecord } from './fleet-breaker-record.js';
import type { MeshStateStore } from './mesh-state-store.js';
import { SlowStart } from './slow-start.js';

/** How a {@link SharedCircuitBreaker} shares its state; the breaker's own options come from the service. */
export interface SharedBreakerOptions {
  /** The fleet's store: the `mesh-state` table. */
  store: Pick<MeshStateStore, 'read' | 'open' | 'acquireProbe' | 'close' | 'reopen'>;
  /** This container's name in leases and logs; one per container. */
  owner: string;
  /** Milliseconds between two reads of the fleet's state by this container. */
  readIntervalMs: number;
  /** Milliseconds over which admitted calls ramp up after the breaker closed; 0 for no ramp. */
  slowStartMs: number;
  /** How long an elected prober holds the fleet's probe; a prober that dies frees it when this ends. */
  leaseMs: number;
}

export const SHARED_BREAKER_DEFAULTS = {
  readIntervalMs: 5_000,
  slowStartMs: 30_000,
  leaseMs: 30_000,
} satisfies Partial<SharedBreakerOptions>;

/** A container's name for leases: random, so two containers never share one. */
export function containerOwnerId(): string {
  return `${process.env.AWS_LAMBDA_LOG_STREAM_NAME ?? 'local'}#${randomUUID()}`;
}

/**
 * `fleetVersion`/`lease`: the version of the fleet's record this state follows; undefined when the
 * store could not be told (opened, or probing, on local evidence alone).
 */
type SharedState =
  | { readonly name: 'closed'; consecutiveFailures: number }
  | { readonly name: 'open'; readonly openedAt: number; fleetVersion: number | undefined }
  | { readonly name: 'half-open'; inFlight: number; successes: number; readonly lease: number | undefined };
type OpenState = Extract<SharedState, { name: 'open' }>;
type HalfOpenState = Extract<SharedState, { name: 'half-open' }>;

const neverAborted = new AbortController().signal;

/**
 * A circuit breaker the whole fleet shares through the `mesh-state` table.
 *
 * The state machine runs in memory, exactly like the per-container {@link CircuitBreaker}
 * (consecutive failures open it, probes close it); the store only carries transitions:
 * - healthy calls touch no store; each container reads the fleet's record once per
 *   `readIntervalMs` (and once at a cold start, see `sync`), so a breaker one container opened is
 *   open everywhere within that interval, and every container fails fast without a call;
 * - opening is one conditional write (`open` only if closed): the first container to see the
 *   outage opens it for all, the others learn its record from their lost write;
 * - when the probe is due exactly one container wins a conditional write that takes an expiring
 *   lease; the others stay open until the lease ends. Its probes close (or reopen) the breaker
 *   with a write conditional on still holding the lease, so a prober that died frees the probe
 *   when its lease ends and a late one cannot overrule its successor;
 * - after closing, every container admits a share of calls ramping up over `slowStartMs` from
 *   the moment the fleet closed (a {@link SlowStart}), not from when it heard of it.
 * A store that cannot be reached never blocks a call: the breaker keeps its local state and
 * evidence (opening and probing on its own, like the per-container breaker) and reports every
 * failed store operation through {@link onStoreError}.
 *
 * Time is read only from the clock (`Date.now()` by default), never from a timer, so a simulated
 * clock drives reads, probes, leases and the ramp.
 */
export class SharedCircuitBreaker implements ServiceBreaker {
  declare readonly _altReturn: never;
  readonly service: string;
  #inner: SharedState = { name: 'closed', consecutiveFailures: 0 };
  /** The fleet's record as last read or written; undefined before the first answer. */
  #fleet: FleetBreakerRecord | undefined;
  #readAt = Number.NEGATIVE_INFINITY;
  #reading: Promise<void> | undefined;
  #electing: Promise<void> | undefined;
  /** After a lost election: no new attempt before the winner's lease ends (or the next read). */
  #electionBlockedUntil = Number.NEGATIVE_INFINITY;
  #slowStart: SlowStart | undefined;
  /** The fleet version whose closing started {@link #slowStart}, so a re-read does not restart it. */
  #slowStartVersion: number | undefined;
  readonly #successEmitter = new EventEmitter<ISuccessEvent>();
  readonly #failureEmitter = new EventEmitter<IFailureEvent>();
  readonly #stateEmitter = new EventEmitter<BreakerTransition>();
  readonly #storeErrorEmitter = new EventEmitter<BreakerStoreFailure>();

  readonly onSuccess = this.#successEmitter.addListener;
  /** Fires for every call that failed; `handled` is true when it counted as a breaker failure. */
  readonly onFailure = this.#failureEmitter.addListener;
  /** Fires on every local transition, including those adopted from the fleet. */
  readonly onStateChange = this.#stateEmitter.addListener;
  /** Fires for every store operation that failed; the breaker went on locally. */
  readonly onStoreError = this.#storeErrorEmitter.addListener;

  constructor(
    private readonly options: CircuitBreakerOptions & { service: string },
    private readonly shared: SharedBreakerOptions,
    private readonly clock: Clock = systemClock,
  ) {
    this.service = options.service;
  }

  /** The state as this container knows it (no store operation). */
  get state(): BreakerStateName {
    return this.#inner.name;
  }

  /** The fleet's state as last read or written, or undefined before the store first answered. */
  get fleetState(): BreakerStateName | undefined {
    return this.#fleet === undefined ? undefined : fleetStateOf(this.#fleet, this.clock.now());
  }

  /**
   * Reads the fleet's record when the last read is `readIntervalMs` old (or at the first call),
   * one read in flight at a time; returns undefined when none is due. Call it at a cold start to
   * overlap the read with the SVID fetch. Never rejects: a failed read is reported and ignored.
   */
  sync(): Promise<void> | undefined {
    if (this.#reading) return this.#reading;
    const now = this.clock.now();
    if (now - this.#readAt < this.shared.readIntervalMs) return undefined;
    this.#readAt = now;
    const reading = this.#readFleet().finally(() => {
      this.#reading = undefined;
    });
    this.#reading = reading;
    return reading;
  }

  /** The rejection an open breaker throws now; undefined when closed, half-open, or a probe is due. */
  rejectionIfOpen(): CircuitOpenError | undefined {
    const state = this.#inner;
    if (state.name !== 'open') return undefined;
    const now = this.clock.now();
    return this.#probeDue(state, now) && now >= this.#electionBlockedUntil ? undefined : this.#openRejection(state, now);
  }

  /**
   * Runs `fn` when the breaker admits it and records the outcome; a transition it causes is
   * written to the store before this returns.
   *
   * @throws {CircuitOpenError} when open, half-open with every probe slot taken (or probing in
   *   another container), or over the slow-start ramp.
   */
  async execute<T>(fn: (context: IDefaultPolicyContext) => PromiseLike<T> | T, signal = neverAborted): Promise<T> {
    const syncing = this.sync();
    if (syncing) await syncing;
    const admittedBy = this.#admitNow() ?? (await this.#admitWhenDue());
    const startedAt = this.clock.now();
    let value: T;
    try {
      value = await fn({ signal });
    } catch (error) {
      const outcome = this.options.outcomeOf(error);
      const writing = this.#record(admittedBy, outcome);
      if (writing) await writing;
      this.#failureEmitter.emit({ duration: this.clock.now() - startedAt, handled: outcome === 'failure', reason: { error } });
      throw error;
    }
    const writing = this.#record(admittedBy, 'success');
    if (writing) await writing;
    this.#successEmitter.emit({ duration: this.clock.now() - startedAt });
    return value;
  }

  /** Admission without waiting: closed, half-open, or open before its probe is due. */
  #admitNow(): SharedState | undefined {
    const state = this.#inner;
    const now = this.clock.now();
    switch (state.name) {
      case 'closed':
        if (this.#slowStart !== undefined) {
          if (!this.#slowStart.running(now)) this.#slowStart = undefined;
          else if (!this.#slowStart.admit(now)) throw new CircuitOpenError('slow-start', 0);
        }
        return state;
      case 'half-open':
        if (state.inFlight >= this.options.halfOpenMaxCalls) throw new CircuitOpenError('half-open', 0);
        state.inFlight += 1;
        return state;
      case 'open':
        if (!this.#probeDue(state, now) || now < this.#electionBlockedUntil) throw this.#openRejection(state, now);
        return undefined;
    }
  }

  /** The probe is due: take part in the election (one per container at a time), then admit or reject. */
  async #admitWhenDue(): Promise<SharedState> {
    const state = this.#inner as OpenState;
    this.#electing ??= this.#elect(state).finally(() => {
      this.#electing = undefined;
    });
    await this.#electing;
    const admitted = this.#inner.name === 'open' ? undefined : this.#admitNow();
    if (admitted === undefined) {
      const now = this.clock.now();
      const current = this.#inner;
      throw current.name === 'open' ? this.#openRejection(current, now) : new CircuitOpenError('half-open', 0);
    }
    return admitted;
  }

  #probeDue(state: OpenState, now: number): boolean {
    return now - state.openedAt >= this.options.openMs;
  }

  #openRejection(state: OpenState, now: number): CircuitOpenError {
    const probeAt = Math.max(state.openedAt + this.options.openMs, this.#electionBlockedUntil);
    return new CircuitOpenError('open', Math.max(0, probeAt - now));
  }

  /**
   * Asks the fleet for the probe. Opened on local evidence only (the store was unreachable), the
   * container probes on its own, as a per-container breaker would.
   */
  async #elect(state: OpenState): Promise<void> {
    const now = this.clock.now();
    if (state.fleetVersion === undefined) {
      this.#transition({ name: 'half-open', inFlight: 0, successes: 0, lease: undefined });
      return;
    }
    try {
      const result = await this.shared.store.acquireProbe(this.service, {
        version: state.fleetVersion,
        owner: this.shared.owner,
        now,
        dueBefore: now - this.options.openMs,
        leaseMs: this.shared.leaseMs,
      });
      this.#fleet = result.record;
      if (this.#inner !== state) return; // a read adopted something newer meanwhile
      if (result.won) {
        this.#transition({ name: 'half-open', inFlight: 0, successes: 0, lease: result.record.version });
        return;
      }
      this.#electionBlockedUntil = result.record.leaseUntil ?? now + this.shared.readIntervalMs;
      this.#follow(result.record);
    } catch (error) {
      this.#storeFailed('elect prober', error);
      if (this.#inner === state) this.#transition({ name: 'half-open', inFlight: 0, successes: 0, lease: undefined });
    }
  }

  /** Records a call's outcome; returns the store write of the transition it caused, if any. */
  #record(admittedBy: SharedState, outcome: BreakerOutcome): Promise<void> | undefined {
    if (admittedBy !== this.#inner) return undefined; // the breaker moved on since this call started
    const state = this.#inner;
    switch (state.name) {
      case 'closed':
        if (outcome === 'failure') {
          state.consecutiveFailures += 1;
          if (state.consecutiveFailures >= this.options.failureThreshold) return this.#open();
        } else if (outcome === 'success') {
          state.consecutiveFailures = 0;
        }
        return undefined;
      case 'half-open':
        state.inFlight -= 1;
        if (outcome === 'failure') return this.#probeFailed(state);
        if (outcome === 'success') {
          state.successes += 1;
          if (state.successes >= this.options.successThreshold) return this.#probesSucceeded(state);
        }
        return undefined;
      case 'open':
        return undefined; // unreachable: open admits nothing
    }
  }

  /** Opens here at once, then for the fleet; when another container opened it first, follows its record. */
  async #open(): Promise<void> {
    const opened: OpenState = { name: 'open', openedAt: this.clock.now(), fleetVersion: undefined };
    this.#transition(opened);
    await this.#publishOpen(opened);
  }

  async #publishOpen(opened: OpenState): Promise<void> {
    try {
      const result = await this.shared.store.open(this.service, { now: this.clock.now(), by: this.shared.owner });
      this.#fleet = result.record;
      if (this.#inner !== opened) return;
      if (result.won) opened.fleetVersion = result.record.version;
      else this.#follow(result.record);
    } catch (error) {
      this.#storeFailed('open', error);
    }
  }

  async #probesSucceeded(state: HalfOpenState): Promise<void> {
    const now = this.clock.now();
    const closed: SharedState = { name: 'closed', consecutiveFailures: 0 };
    this.#transition(closed);
    this.#beginSlowStart(now, undefined);
    if (state.lease === undefined) return; // probed on local evidence: the fleet's own prober decides for the fleet
    try {
      const result = await this.shared.store.close(this.service, { version: state.lease, owner: this.shared.owner, now });
      this.#fleet = result.record;
      if (this.#inner !== closed) return;
      if (result.won) this.#slowStartVersion = result.record.version;
      else this.#follow(result.record); // the lease ran out and another prober took over
    } catch (error) {
      this.#storeFailed('close', error);
    }
  }

  async #probeFailed(state: HalfOpenState): Promise<void> {
    const now = this.clock.now();
    const opened: OpenState = { name: 'open', openedAt: now, fleetVersion: undefined };
    this.#transition(opened);
    if (state.lease === undefined) return;
    try {
      const result = await this.shared.store.reopen(this.service, { version: state.lease, owner: this.shared.owner, now });
      this.#fleet = result.record;
      if (this.#inner !== opened) return;
      if (result.won) opened.fleetVersion = result.record.version;
      else this.#follow(result.record);
    } catch (error) {
      this.#storeFailed('reopen', error);
    }
  }

  async #readFleet(): Promise<void> {
    let record: FleetBreakerRecord;
    try {
      record = await this.shared.store.read(this.service);
    } catch (error) {
      this.#storeFailed('read', error);
      return;
    }
    this.#fleet = record;
    const state = this.#inner;
    // Opened while the store was unreachable, and the fleet still thinks it closed: tell it now.
    if (state.name === 'open' && state.fleetVersion === undefined && record.state === 'closed') {
      await this.#publishOpen(state);
      return;
    }
    this.#follow(record);
  }

  /** Takes the fleet's record as the truth, except for what this container decides alone. */
  #follow(record: FleetBreakerRecord): void {
    const state = this.#inner;
    const now = this.clock.now();
    if (record.state === 'open') {
      if (state.name === 'half-open' && state.lease === record.version && record.leaseOwner === this.shared.owner) return; // our probe
      // Another container is probing: no election write of ours can win before its lease ends.
      if (record.leaseUntil !== undefined && record.leaseUntil > now) this.#electionBlockedUntil = Math.max(this.#electionBlockedUntil, record.leaseUntil);
      if (state.name === 'open' && state.fleetVersion === record.version) return;
      this.#transition({ name: 'open', openedAt: record.openedAt ?? now, fleetVersion: record.version });
      return;
    }
    if (state.name === 'open' && state.fleetVersion === undefined) return; // the read publishes it
    if (state.name === 'half-open' && state.lease === undefined) return; // local probes finish first
    if (state.name !== 'closed') this.#transition({ name: 'closed', consecutiveFailures: 0 });
    if (record.closedAt !== undefined && this.#slowStartVersion !== record.version) this.#beginSlowStart(record.closedAt, record.version);
  }

  #beginSlowStart(closedAt: number, version: number | undefined): void {
    this.#slowStartVersion = version;
    const ramp = new SlowStart(closedAt, this.shared.slowStartMs);
    this.#slowStart = ramp.running(this.clock.now()) ? ramp : undefined;
  }

  #storeFailed(operation: string, error: unknown): void {
    this.#storeErrorEmitter.emit({ service: this.service, operation, error });
  }

  #transition(next: SharedState): void {
    const from = this.#inner.name;
    this.#inner = next;
    if (next.name === 'open') this.#slowStart = undefined;
    if (from !== next.name) this.#stateEmitter.emit({ from, to: next.name });
  }
}
