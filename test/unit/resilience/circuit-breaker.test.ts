import { status } from '@grpc/grpc-js';
import { handleAll, retry, wrap } from 'cockatiel';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MeshCallError } from '../../../shared/errors.js';
import {
  breakerOutcome,
  breakerStateValue,
  CircuitBreaker,
  CircuitOpenError,
  ServicePolicy,
  type BreakerStateChange,
  type CallContext,
} from '../../../shared/resilience/index.js';
import { deferred, grpcError, settleAfter, type Deferred } from './support.js';

const socketError = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });

// Non-idempotent, so each execute() is exactly one attempt and failures count one by one.
const once: CallContext = { method: 'GetUserInfo', idempotent: false };

async function failTransport(policy: ServicePolicy, times: number): Promise<void> {
  for (let i = 0; i < times; i += 1) {
    await expect(policy.execute(once, () => Promise.reject(grpcError(status.UNAVAILABLE)))).rejects.toMatchObject({
      code: status.UNAVAILABLE,
    });
  }
}

async function openBreaker(policy: ServicePolicy): Promise<void> {
  await failTransport(policy, 5);
  expect(policy.state).toBe('open');
}

describe('the circuit breaker of a ServicePolicy', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('stays closed after 4 consecutive transport failures and opens on exactly the 5th', async () => {
    // Prepare
    const policy = new ServicePolicy({ service: 'contact-service' });

    // Act
    await failTransport(policy, 4);
    const afterFour = policy.state;
    await failTransport(policy, 1);

    // Assess
    expect(afterFour).toBe('closed');
    expect(policy.state).toBe('open');
  });

  it.each([
    ['DEADLINE_EXCEEDED', grpcError(status.DEADLINE_EXCEEDED)],
    ['RESOURCE_EXHAUSTED', grpcError(status.RESOURCE_EXHAUSTED)],
    ['INTERNAL with a TLS handshake failure', grpcError(status.INTERNAL, 'TLS handshake failed')],
    ['a socket error without a gRPC status', socketError],
  ])('counts %s as a transport failure', async (_name, error) => {
    // Prepare
    const policy = new ServicePolicy({ service: 'contact-service' });

    // Act
    for (let i = 0; i < 5; i += 1) await policy.execute(once, () => Promise.reject(error)).catch(() => undefined);

    // Assess
    expect(policy.state).toBe('open');
  });

  it('treats NOT_FOUND as an answer: it never opens the breaker and resets the failure count', async () => {
    // Prepare
    const policy = new ServicePolicy({ service: 'contact-service' });
    const notFound = grpcError(status.NOT_FOUND);

    // Act
    await failTransport(policy, 4);
    await expect(policy.execute(once, () => Promise.reject(notFound))).rejects.toBe(notFound);
    await failTransport(policy, 4);
    const afterReset = policy.state;
    for (let i = 0; i < 10; i += 1) await policy.execute(once, () => Promise.reject(notFound)).catch(() => undefined);
    const afterManyNotFound = policy.state;
    await failTransport(policy, 1);

    // Assess
    expect(afterReset).toBe('closed');
    expect(afterManyNotFound).toBe('closed');
    expect(policy.state).toBe('closed'); // the NOT_FOUNDs reset the count again
  });

  it('rejects with MESH_BREAKER_OPEN while open without calling the attempt function or waiting', async () => {
    // Prepare
    const policy = new ServicePolicy({ service: 'contact-service' });
    await openBreaker(policy);
    const attempt = vi.fn(() => Promise.resolve('never'));

    // Act
    const outcome = await settleAfter(policy.execute(once, attempt), 0);

    // Assess
    expect(outcome.status).toBe('rejected');
    expect(outcome.reason).toBeInstanceOf(MeshCallError);
    expect(outcome.reason).toMatchObject({
      code: 'MESH_BREAKER_OPEN',
      service: 'contact-service',
      method: 'GetUserInfo',
    });
    expect((outcome.reason as Error).cause).toBeInstanceOf(CircuitOpenError);
    expect(attempt).not.toHaveBeenCalled();
  });

  it('stays open until the open timeout has elapsed, then reports half-open', async () => {
    // Prepare
    const policy = new ServicePolicy({ service: 'contact-service' });
    await openBreaker(policy);

    // Act
    await vi.advanceTimersByTimeAsync(59_999);
    const justBefore = policy.state;
    await vi.advanceTimersByTimeAsync(1);

    // Assess
    expect(justBefore).toBe('open');
    expect(policy.state).toBe('half-open');
  });

  it('admits at most 3 concurrent probes when half-open and fails the 4th fast instead of queueing it', async () => {
    // Prepare
    const policy = new ServicePolicy({ service: 'contact-service' });
    await openBreaker(policy);
    await vi.advanceTimersByTimeAsync(60_000);
    const probes: Deferred<string>[] = [];
    const probe = vi.fn(() => {
      const d = deferred<string>();
      probes.push(d);
      return d.promise;
    });
    const inFlight = [1, 2, 3].map(() => policy.execute(once, probe));
    await vi.advanceTimersByTimeAsync(0);

    // Act
    const fourth = await settleAfter(policy.execute(once, probe), 0);

    // Assess
    expect(probe).toHaveBeenCalledTimes(3);
    expect(fourth.status).toBe('rejected');
    expect(fourth.reason).toMatchObject({ code: 'MESH_BREAKER_OPEN' });
    probes.forEach((d) => d.resolve('ok'));
    await expect(Promise.all(inFlight)).resolves.toEqual(['ok', 'ok', 'ok']);
  });

  it('closes after exactly 2 successful probes', async () => {
    // Prepare
    const policy = new ServicePolicy({ service: 'contact-service' });
    await openBreaker(policy);
    await vi.advanceTimersByTimeAsync(60_000);

    // Act
    await policy.execute(once, () => Promise.resolve('first'));
    const afterOne = policy.state;
    await policy.execute(once, () => Promise.resolve('second'));

    // Assess
    expect(afterOne).toBe('half-open');
    expect(policy.state).toBe('closed');
  });

  it('counts an application error from a probe as a success', async () => {
    // Prepare
    const policy = new ServicePolicy({ service: 'contact-service' });
    await openBreaker(policy);
    await vi.advanceTimersByTimeAsync(60_000);

    // Act
    await policy.execute(once, () => Promise.reject(grpcError(status.NOT_FOUND))).catch(() => undefined);
    await policy.execute(once, () => Promise.reject(grpcError(status.PERMISSION_DENIED))).catch(() => undefined);

    // Assess
    expect(policy.state).toBe('closed');
  });

  it('reopens on a failed probe and restarts the open timer', async () => {
    // Prepare
    const policy = new ServicePolicy({ service: 'contact-service' });
    await openBreaker(policy);
    await vi.advanceTimersByTimeAsync(60_000);

    // Act
    await failTransport(policy, 1);
    const afterFailedProbe = policy.state;
    await vi.advanceTimersByTimeAsync(59_999);
    const justBeforeNewTimeout = policy.state;
    await vi.advanceTimersByTimeAsync(1);

    // Assess
    expect(afterFailedProbe).toBe('open');
    expect(justBeforeNewTimeout).toBe('open');
    expect(policy.state).toBe('half-open');
  });

  it('ignores the late result of a call admitted before the breaker opened', async () => {
    // Prepare
    const policy = new ServicePolicy({ service: 'contact-service' });
    const slow = deferred<never>();
    const lateCall = policy.execute(once, () => slow.promise).catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(0);
    await openBreaker(policy);
    await vi.advanceTimersByTimeAsync(60_000);
    const halfOpen = policy.state;

    // Act
    slow.reject(grpcError(status.UNAVAILABLE, 'late'));
    await lateCall;

    // Assess
    expect(halfOpen).toBe('half-open');
    expect(policy.state).toBe('half-open');
  });

  it('keeps the breakers of two services independent', async () => {
    // Prepare
    const contact = new ServicePolicy({ service: 'contact-service' });
    const billing = new ServicePolicy({ service: 'billing-service' });
    const attempt = vi.fn(() => Promise.resolve('answered'));

    // Act
    await openBreaker(contact);
    const result = await billing.execute(once, attempt);

    // Assess
    expect(contact.state).toBe('open');
    expect(billing.state).toBe('closed');
    expect(result).toBe('answered');
    expect(attempt).toHaveBeenCalledTimes(1);
  });

  it('tells listeners closed → open → half-open → closed, and nothing after unsubscribe', async () => {
    // Prepare
    const policy = new ServicePolicy({ service: 'contact-service' });
    const changes: BreakerStateChange[] = [];
    const unsubscribe = policy.onStateChange((change) => changes.push(change));

    // Act
    await openBreaker(policy);
    await vi.advanceTimersByTimeAsync(60_000);
    await policy.execute(once, () => Promise.resolve(1));
    await policy.execute(once, () => Promise.resolve(2));
    unsubscribe();
    await openBreaker(policy);

    // Assess
    expect(changes).toEqual([
      { service: 'contact-service', from: 'closed', to: 'open' },
      { service: 'contact-service', from: 'open', to: 'half-open' },
      { service: 'contact-service', from: 'half-open', to: 'closed' },
    ]);
  });

  it('maps states to the circuit_breaker_state metric values', () => {
    expect([breakerStateValue('closed'), breakerStateValue('open'), breakerStateValue('half-open')]).toEqual([0, 1, 2]);
  });
});

describe('CircuitBreaker as a cockatiel policy', () => {
  it('composes with cockatiel wrap and stops a retry loop once it opens', async () => {
    // Prepare
    const breaker = new CircuitBreaker({
      failureThreshold: 3,
      successThreshold: 1,
      openMs: 1_000,
      halfOpenMaxCalls: 1,
      outcomeOf: breakerOutcome,
    });
    const attempt = vi.fn(() => Promise.reject(grpcError(status.UNAVAILABLE)));

    // Act
    const result = wrap(retry(handleAll, { maxAttempts: 10 }), breaker).execute(attempt);

    // Assess
    await expect(result).rejects.toBeInstanceOf(CircuitOpenError);
    expect(attempt).toHaveBeenCalledTimes(3);
    expect(breaker.state).toBe('open');
  });

  it('rejects well under a millisecond per call while open (generous real-time bound)', async () => {
    // Prepare
    const policy = new ServicePolicy({ service: 'contact-service' });
    await openBreaker(policy);
    const calls = 1_000;

    // Act
    const started = performance.now();
    for (let i = 0; i < calls; i += 1) await policy.execute(once, () => Promise.resolve(i)).catch(() => undefined);
    const perCallMs = (performance.now() - started) / calls;

    // Assess
    expect(perCallMs).toBeLessThan(1);
  });
});
