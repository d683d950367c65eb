// Fixtures for the shared breaker's tests: containers on one dynalite table and a clock the test moves.
import { status } from '@grpc/grpc-js';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { breakerOutcome } from '../../../../shared/resilience/classify-failure.js';
import { MeshStateStore } from '../../../../shared/resilience/shared-breaker/mesh-state-store.js';
import { SharedCircuitBreaker, type SharedBreakerOptions } from '../../../../shared/resilience/shared-breaker/shared-circuit-breaker.js';
import type { BreakerStoreFailure } from '../../../../shared/resilience/service-breaker.js';
import { containerClient, intercept } from '../../entitlements/support.js';
import { grpcError } from '../support.js';

/** A clock the test sets; every container of a test reads the same one, as Date.now() would. */
export function manualClock(start = Date.parse('2026-01-01T00:00:00.000Z')) {
  const clock = {
    t: start,
    now: () => clock.t,
    advance(ms: number) {
      clock.t += ms;
    },
  };
  return clock;
}
export type ManualClock = ReturnType<typeof manualClock>;

/** The mesh's default breaker: 5 failures open it, 60 s open, 2 successes close it, 3 probes at once. */
export const BREAKER = {
  service: 'contact-service',
  failureThreshold: 5,
  successThreshold: 2,
  openMs: 60_000,
  halfOpenMaxCalls: 3,
  outcomeOf: breakerOutcome,
} as const;

export const unavailable = () => Promise.reject(grpcError(status.UNAVAILABLE));

/** One Lambda container: its own DynamoDB client (own sockets), store, breaker, and counts of what it did. */
export interface Container {
  name: string;
  breaker: SharedCircuitBreaker;
  client: DynamoDBClient;
  /** DynamoDB operations this container sent, by command name. */
  sends: Record<string, number>;
  storeErrors: BreakerStoreFailure[];
  transitions: string[];
  /** Calls that reached the service. */
  calls: number;
}

export function container(
  name: string,
  endpoint: string,
  tableName: string,
  clock: ManualClock,
  shared: Partial<Omit<SharedBreakerOptions, 'store' | 'owner'>> = {},
): Container {
  const client = containerClient(endpoint);
  const sends: Record<string, number> = {};
  intercept(client, 'countSends', (next, context) => (args) => {
    const command = context.commandName ?? '?';
    sends[command] = (sends[command] ?? 0) + 1;
    return next(args);
  });
  const store = new MeshStateStore({ tableName, client });
  const breaker = new SharedCircuitBreaker(
    BREAKER,
    { store, owner: name, readIntervalMs: 5_000, slowStartMs: 30_000, leaseMs: 30_000, ...shared },
    clock,
  );
  const self: Container = { name, breaker, client, sends, storeErrors: [], transitions: [], calls: 0 };
  breaker.onStoreError((failure) => self.storeErrors.push(failure));
  breaker.onStateChange(({ from, to }) => self.transitions.push(`${from}→${to}`));
  return self;
}

/** Runs one call on `c`'s breaker; the service answers with `service` (a value or a rejection). */
export async function call(c: Container, service: () => Promise<unknown> = () => Promise.resolve('ok')): Promise<'ok' | string> {
  try {
    await c.breaker.execute(() => {
      c.calls += 1;
      return service();
    });
    return 'ok';
  } catch (error) {
    return (error as Error).name === 'CircuitOpenError' ? `rejected:${(error as { state: string }).state}` : 'failed';
  }
}

export function storeOps(c: Container): number {
  return Object.values(c.sends).reduce((a, b) => a + b, 0);
}
