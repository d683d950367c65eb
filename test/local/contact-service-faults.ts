/**
 * The reference contact-service's switchable faults: injected statuses, delays, and dropped
 * connections. One instance per service; handlers ask it before answering.
 */
import type { Http2Session } from 'node:http2';
import { ServerInterceptingCall, status, type ServerInterceptor, type StatusObject } from '@grpc/grpc-js';
import { http2SessionOf } from '../../shared/transport/spiffe-authorizer-interceptor.js';
import { seededRandom } from './seeded-random.js';

/** What the service does to calls of the contact-service contract (health is never faulted). */
export type ContactServiceFault =
  /** Answer `code` instead of the data, `times` times (default: until changed). */
  | { kind: 'status'; code: status; details?: string; times?: number }
  /**
   * Answer `code` instead of the data for a share of the calls, until changed: every `every`-th
   * call (`every: 2` alternates failure and success), or each call with chance `probability`,
   * drawn from a PRNG seeded with `seed` (reproducible) or from `Math.random` without one.
   */
  | { kind: 'intermittent'; code: status; details?: string; every?: number; probability?: number; seed?: number }
  /** Answer after `ms` more milliseconds. */
  | { kind: 'delay'; ms: number }
  /** Destroy every open connection now, and each connection a call arrives on while set. */
  | { kind: 'drop' }
  | { kind: 'none' };

/** What a handler does after {@link FaultInjector.beforeAnswer}. */
export type FaultOutcome = { kind: 'answer' } | { kind: 'status'; status: Pick<StatusObject, 'code' | 'details'> } | { kind: 'cancelled' };

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (ms <= 0 || signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

export class FaultInjector {
  #fault: ContactServiceFault = { kind: 'none' };
  #statusesLeft = 0;
  #intermittentCalls = 0;
  #random: () => number = Math.random;
  readonly #sessions = new Set<Http2Session>();
  readonly #extraLatencyMs: number;

  constructor(extraLatencyMs: number) {
    this.#extraLatencyMs = extraLatencyMs;
  }

  set(fault: ContactServiceFault): void {
    this.#fault = fault;
    this.#statusesLeft = fault.kind === 'status' ? (fault.times ?? Number.POSITIVE_INFINITY) : 0;
    this.#intermittentCalls = 0;
    this.#random = fault.kind === 'intermittent' && fault.seed !== undefined ? seededRandom(fault.seed) : Math.random;
    if (fault.kind === 'drop') this.dropConnections();
  }

  /** Destroys every HTTP/2 session a call arrived on (the client sees its connection close). */
  dropConnections(): void {
    for (const session of this.#sessions) session.destroy();
  }

  /** Records each call's HTTP/2 session, and destroys it instead of serving while `drop` is set. */
  interceptor(): ServerInterceptor {
    return (_method, call) =>
      new ServerInterceptingCall(call, {
        start: (next) => {
          next({
            onReceiveMetadata: (metadata, proceed) => {
              const session = http2SessionOf(call);
              if (session && !this.#sessions.has(session)) {
                this.#sessions.add(session);
                session.once('close', () => this.#sessions.delete(session));
              }
              if (this.#fault.kind === 'drop' && session) {
                session.destroy();
                return;
              }
              proceed(metadata);
            },
          });
        },
      });
  }

  /** Waits out the latency and any delay fault, then says whether to answer or fail the call. */
  async beforeAnswer(cancelled: AbortSignal): Promise<FaultOutcome> {
    const fault = this.#fault;
    await sleep(this.#extraLatencyMs + (fault.kind === 'delay' ? fault.ms : 0), cancelled);
    if (cancelled.aborted) return { kind: 'cancelled' };
    if (fault.kind === 'intermittent') return this.#intermittent(fault);
    if (fault.kind !== 'status' || this.#statusesLeft <= 0) return { kind: 'answer' };
    this.#statusesLeft--;
    if (this.#statusesLeft === 0 && this.#fault === fault) this.#fault = { kind: 'none' };
    return { kind: 'status', status: { code: fault.code, details: fault.details ?? `injected fault: status ${status[fault.code]}` } };
  }

  #intermittent(fault: Extract<ContactServiceFault, { kind: 'intermittent' }>): FaultOutcome {
    this.#intermittentCalls++;
    const nth = fault.every !== undefined && fault.every > 0 && this.#intermittentCalls % fault.every === 0;
    const drawn = fault.probability !== undefined && this.#random() < fault.probability;
    if (!nth && !drawn) return { kind: 'answer' };
    return { kind: 'status', status: { code: fault.code, details: fault.details ?? `injected intermittent fault: status ${status[fault.code]}` } };
  }
}
