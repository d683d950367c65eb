import { status } from '@grpc/grpc-js';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MeshCallError } from '../../../shared/errors.js';
import { ServicePolicy, type AttemptInfo, type CallContext } from '../../../shared/resilience/index.js';
import { grpcError, settleAfter, track } from './support.js';

const idempotent: CallContext = { method: 'GetUserInfo', idempotent: true };

/** An attempt function that fails with `error` every time and records what it was given. */
function failingWith(error: unknown) {
  return vi.fn((_info: AttemptInfo) => Promise.reject(error));
}

describe('retries of a ServicePolicy', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  it('retries an idempotent UNAVAILABLE call maxAttempts times and rethrows the gRPC error unchanged', async () => {
    // Prepare
    const policy = new ServicePolicy({ service: 'contact-service' });
    const unavailable = grpcError(status.UNAVAILABLE);
    const attempt = failingWith(unavailable);

    // Act
    const outcome = await settleAfter(policy.execute(idempotent, attempt), 5_000);

    // Assess
    expect(outcome.status).toBe('rejected');
    expect(outcome.reason).toBe(unavailable);
    expect(attempt).toHaveBeenCalledTimes(3); // the first attempt + retry.maxAttempts (2)
    expect(attempt.mock.calls.map(([info]) => info.attempt)).toEqual([1, 2, 3]);
  });

  it('bounds the attempts by maxAttempts + 1 for any configured maxAttempts', async () => {
    // Prepare
    const policy = new ServicePolicy({ service: 'contact-service', retry: { maxAttempts: 4 } });
    const attempt = failingWith(grpcError(status.RESOURCE_EXHAUSTED));

    // Act
    await settleAfter(policy.execute(idempotent, attempt), 9_000);

    // Assess
    expect(attempt).toHaveBeenCalledTimes(5);
  });

  it('makes exactly one attempt when retry.maxAttempts is 0', async () => {
    // Prepare
    const policy = new ServicePolicy({ service: 'contact-service', retry: { maxAttempts: 0 } });
    const attempt = failingWith(grpcError(status.UNAVAILABLE));

    // Act
    await settleAfter(policy.execute(idempotent, attempt), 5_000);

    // Assess
    expect(attempt).toHaveBeenCalledTimes(1);
  });

  it('returns the value of the first successful retry', async () => {
    // Prepare
    const policy = new ServicePolicy({ service: 'contact-service' });
    const attempt = vi
      .fn((_info: AttemptInfo) => Promise.resolve('user-1'))
      .mockRejectedValueOnce(grpcError(status.UNAVAILABLE));

    // Act
    const outcome = await settleAfter(policy.execute(idempotent, attempt), 5_000);

    // Assess
    expect(outcome).toMatchObject({ status: 'fulfilled', value: 'user-1' });
    expect(attempt).toHaveBeenCalledTimes(2);
  });

  it('never retries a call that is not idempotent', async () => {
    // Prepare
    const policy = new ServicePolicy({ service: 'contact-service' });
    const unavailable = grpcError(status.UNAVAILABLE);
    const attempt = failingWith(unavailable);

    // Act
    const outcome = await settleAfter(policy.execute({ method: 'GrantAccess', idempotent: false }, attempt), 5_000);

    // Assess
    expect(outcome.reason).toBe(unavailable);
    expect(attempt).toHaveBeenCalledTimes(1);
  });

  it('retries an idempotent call whose stream the server reset mid-call (an instance stopping)', async () => {
    // Prepare
    const policy = new ServicePolicy({ service: 'contact-service' });
    const attempt = vi
      .fn((_info: AttemptInfo) => Promise.resolve('answer'))
      .mockRejectedValueOnce(grpcError(status.INTERNAL, 'Received RST_STREAM with code 0'));

    // Act
    const outcome = await settleAfter(policy.execute(idempotent, attempt), 5_000);

    // Assess
    expect(outcome.value).toBe('answer');
    expect(attempt).toHaveBeenCalledTimes(2);
  });

  it.each([
    ['NOT_FOUND', grpcError(status.NOT_FOUND)],
    ['INVALID_ARGUMENT', grpcError(status.INVALID_ARGUMENT)],
    ['PERMISSION_DENIED', grpcError(status.PERMISSION_DENIED)],
    ['INTERNAL', grpcError(status.INTERNAL)],
    ['CANCELLED', grpcError(status.CANCELLED)],
    ['an error without a gRPC status', new TypeError('bug')],
  ])('does not retry %s', async (_name, error) => {
    // Prepare
    const policy = new ServicePolicy({ service: 'contact-service' });
    const attempt = failingWith(error);

    // Act
    const outcome = await settleAfter(policy.execute(idempotent, attempt), 5_000);

    // Assess
    expect(outcome.reason).toBe(error);
    expect(attempt).toHaveBeenCalledTimes(1);
  });

  it('retries DEADLINE_EXCEEDED while time remains (a server-side deadline fired early)', async () => {
    // Prepare
    const policy = new ServicePolicy({ service: 'contact-service' });
    const attempt = failingWith(grpcError(status.DEADLINE_EXCEEDED));

    // Act
    await settleAfter(policy.execute(idempotent, attempt), 5_000);

    // Assess
    expect(attempt).toHaveBeenCalledTimes(3);
  });

  it('does not retry DEADLINE_EXCEEDED once the call deadline has used up the time', async () => {
    // Prepare
    const policy = new ServicePolicy({ service: 'contact-service', timeoutSeconds: 1 });
    const exceeded = grpcError(status.DEADLINE_EXCEEDED);
    // Fails at the call's deadline, as gRPC's own deadline does.
    const attempt = vi.fn(
      ({ deadline }: AttemptInfo) => new Promise<never>((_resolve, reject) => setTimeout(() => reject(exceeded), deadline.getTime() - Date.now())),
    );

    // Act
    const outcome = await settleAfter(policy.execute(idempotent, attempt), 5_000);

    // Assess
    expect(outcome.reason).toBe(exceeded);
    expect(attempt).toHaveBeenCalledTimes(1);
  });

  it('starts no retry whose backoff would end within minAttemptMs of the deadline', async () => {
    // Prepare: random 0.99 pins cockatiel's jittered delay to maxDelayMs (300 ms) on every retry.
    vi.spyOn(Math, 'random').mockReturnValue(0.99);
    const policy = new ServicePolicy({
      service: 'contact-service',
      timeoutSeconds: 1,
      retry: { maxAttempts: 10, initialDelayMs: 300, maxDelayMs: 300 },
      circuitBreaker: { failureThreshold: 100 },
    });
    const t0 = Date.now();
    const startedAt: number[] = [];
    const attempt = vi.fn((info: AttemptInfo) => {
      startedAt.push(Date.now() - t0);
      return Promise.reject(grpcError(status.UNAVAILABLE, `attempt ${info.attempt}`));
    });

    // Act
    const outcome = await settleAfter(policy.execute(idempotent, attempt), 5_000);

    // Assess: 0, 300, 600, 900 — a retry at 1200 would start after the 1000 ms deadline.
    expect(startedAt).toEqual([0, 300, 600, 900]);
    expect(startedAt.every((ms) => ms <= 1_000 - 50)).toBe(true);
    expect(outcome.reason).toMatchObject({ code: status.UNAVAILABLE, details: 'attempt 4' });
  });

  it('waits an exponentially growing, jittered delay capped by maxDelayMs between attempts', async () => {
    // Prepare
    const policy = new ServicePolicy({
      service: 'contact-service',
      retry: { maxAttempts: 6, initialDelayMs: 50, maxDelayMs: 1_000 },
      circuitBreaker: { failureThreshold: 100 },
    });
    const startedAt: number[] = [];
    const attempt = vi.fn(() => {
      startedAt.push(Date.now());
      return Promise.reject(grpcError(status.UNAVAILABLE));
    });

    // Act
    await settleAfter(policy.execute(idempotent, attempt), 9_000);

    // Assess
    const gaps = startedAt.slice(1).map((at, i) => at - (startedAt[i] ?? at));
    expect(attempt).toHaveBeenCalledTimes(7);
    expect(gaps.every((gap) => gap >= 0 && gap <= 1_000)).toBe(true);
  });

  it('starts no retry after the caller cancelled during the backoff', async () => {
    // Prepare
    vi.spyOn(Math, 'random').mockReturnValue(0.99);
    const policy = new ServicePolicy({
      service: 'contact-service',
      retry: { maxAttempts: 5, initialDelayMs: 300, maxDelayMs: 300 },
    });
    const caller = new AbortController();
    const attempt = failingWith(grpcError(status.UNAVAILABLE));
    const outcome = track(policy.execute({ ...idempotent, signal: caller.signal }, attempt));
    await vi.advanceTimersByTimeAsync(100);

    // Act
    caller.abort(new Error('handler gave up'));
    await vi.advanceTimersByTimeAsync(5_000);

    // Assess
    expect(attempt).toHaveBeenCalledTimes(1);
    expect(outcome.reason).toMatchObject({ code: 'MESH_CANCELLED', cause: caller.signal.reason });
  });

  it('stops retrying as soon as its own failures open the breaker', async () => {
    // Prepare
    const policy = new ServicePolicy({
      service: 'contact-service',
      retry: { maxAttempts: 5 },
      circuitBreaker: { failureThreshold: 2 },
    });
    const attempt = vi.fn((info: AttemptInfo) =>
      Promise.reject(grpcError(status.UNAVAILABLE, `attempt ${info.attempt}`)),
    );

    // Act
    const outcome = await settleAfter(policy.execute(idempotent, attempt), 5_000);

    // Assess
    expect(attempt).toHaveBeenCalledTimes(2);
    expect(outcome.reason).toMatchObject({ code: status.UNAVAILABLE, details: 'attempt 2' });
    expect(policy.state).toBe('open');
  });

  it('ends a retry with MESH_BREAKER_OPEN when another call opened the breaker during its backoff', async () => {
    // Prepare
    vi.spyOn(Math, 'random').mockReturnValue(0.99);
    const policy = new ServicePolicy({
      service: 'contact-service',
      retry: { maxAttempts: 5, initialDelayMs: 300, maxDelayMs: 300 },
      circuitBreaker: { failureThreshold: 2 },
    });
    const retried = vi.fn(() => Promise.reject(grpcError(status.UNAVAILABLE)));
    const outcome = track(policy.execute(idempotent, retried));
    await vi.advanceTimersByTimeAsync(0);

    // Act: a second call fails in the first call's 300 ms backoff and opens the breaker.
    await policy.execute({ method: 'GetFamilyMembers', idempotent: false }, retried).catch(() => undefined);
    await vi.advanceTimersByTimeAsync(300);

    // Assess
    expect(outcome.status).toBe('rejected');
    expect(outcome.reason).toBeInstanceOf(MeshCallError);
    expect(outcome.reason).toMatchObject({ code: 'MESH_BREAKER_OPEN', method: 'GetUserInfo' });
    expect(retried).toHaveBeenCalledTimes(2); // one attempt of each call; the retry never ran
  });
});
