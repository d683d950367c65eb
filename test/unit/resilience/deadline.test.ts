import { status } from '@grpc/grpc-js';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MeshCallError } from '../../../shared/errors.js';
import { callDeadline, ServicePolicy, type AttemptInfo } from '../../../shared/resilience/index.js';
import { grpcError, settleAfter, track } from './support.js';

const NOW = new Date('2025-06-01T12:00:00.000Z');

/** Runs one call that succeeds at once and returns the AttemptInfo its attempt received. */
async function infoFor(policy: ServicePolicy, remainingTimeMs?: () => number): Promise<AttemptInfo> {
  let seen: AttemptInfo | undefined;
  await policy.execute({ method: 'GetUserInfo', idempotent: true, remainingTimeMs }, (info) => {
    seen = info;
    return Promise.resolve();
  });
  if (!seen) throw new Error('the attempt was not called');
  return seen;
}

describe('the deadline of a ServicePolicy call', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(NOW);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('is now + timeoutSeconds when the Lambda has more time than that', async () => {
    // Prepare
    const policy = new ServicePolicy({ service: 'contact-service', timeoutSeconds: 10 });

    // Act
    const info = await infoFor(policy, () => 60_000);

    // Assess
    expect(info.deadline.getTime()).toBe(NOW.getTime() + 10_000);
  });

  it("is now + the Lambda's remaining time minus the safety margin when that is sooner", async () => {
    // Prepare
    const policy = new ServicePolicy({ service: 'contact-service', timeoutSeconds: 10, safetyMarginMs: 500 });

    // Act
    const info = await infoFor(policy, () => 3_000);

    // Assess
    expect(info.deadline.getTime()).toBe(NOW.getTime() + 2_500);
  });

  it('is now + timeoutSeconds when no remaining-time function is given', async () => {
    // Prepare
    const policy = new ServicePolicy({ service: 'contact-service', timeoutSeconds: 4 });

    // Act
    const info = await infoFor(policy);

    // Assess
    expect(info.deadline.getTime()).toBe(NOW.getTime() + 4_000);
  });

  it('gives every retry the same overall deadline', async () => {
    // Prepare
    const policy = new ServicePolicy({ service: 'contact-service', timeoutSeconds: 5 });
    const attempt = vi.fn((_info: AttemptInfo) => Promise.reject(grpcError(status.UNAVAILABLE)));

    // Act
    await settleAfter(policy.execute({ method: 'GetUserInfo', idempotent: true }, attempt), 5_000);

    // Assess
    const deadlines = attempt.mock.calls.map(([info]) => info.deadline.getTime());
    expect(deadlines).toEqual([NOW.getTime() + 5_000, NOW.getTime() + 5_000, NOW.getTime() + 5_000]);
  });

  it('rejects with MESH_NO_TIME_LEFT, naming service, method and ms left, without calling the attempt', async () => {
    // Prepare
    const policy = new ServicePolicy({ service: 'contact-service', safetyMarginMs: 500, minAttemptMs: 50 });
    const attempt = vi.fn(() => Promise.resolve('never'));

    // Act
    const result = policy.execute({ method: 'GetUserInfo', idempotent: true, remainingTimeMs: () => 540 }, attempt);

    // Assess
    await expect(result).rejects.toBeInstanceOf(MeshCallError);
    await expect(result).rejects.toMatchObject({
      code: 'MESH_NO_TIME_LEFT',
      service: 'contact-service',
      method: 'GetUserInfo',
      message: expect.stringMatching(/contact-service GetUserInfo has 40 ms left/),
    });
    expect(attempt).not.toHaveBeenCalled();
  });

  it('still starts a call with exactly minAttemptMs left', async () => {
    // Prepare
    const policy = new ServicePolicy({ service: 'contact-service', safetyMarginMs: 500, minAttemptMs: 50 });

    // Act
    const info = await infoFor(policy, () => 550);

    // Assess
    expect(info.deadline.getTime()).toBe(NOW.getTime() + 50);
  });

  it('leaves the deadline of a call with a free bulkhead slot to the attempt: no timer runs while it is in flight', async () => {
    // Prepare: an attempt that fails at its deadline, as gRPC's own deadline does.
    const policy = new ServicePolicy({ service: 'contact-service', timeoutSeconds: 2 });
    let timersInFlight = -1;
    const outcome = track(
      policy.execute({ method: 'GetUserInfo', idempotent: false }, (info) => {
        timersInFlight = vi.getTimerCount();
        return new Promise((_resolve, reject) => setTimeout(() => reject(grpcError(status.DEADLINE_EXCEEDED)), info.deadline.getTime() - Date.now()));
      }),
    );

    // Act
    await vi.advanceTimersByTimeAsync(2_000);

    // Assess: the only timer was the attempt's own.
    expect(timersInFlight).toBe(0);
    expect(outcome.reason).toMatchObject({ code: status.DEADLINE_EXCEEDED });
    expect(vi.getTimerCount()).toBe(0);
  });

  it("aborts the attempt signal when the caller's signal aborts", async () => {
    // Prepare
    const policy = new ServicePolicy({ service: 'contact-service' });
    const caller = new AbortController();
    let signal: AbortSignal | undefined;
    void policy
      .execute({ method: 'GetUserInfo', idempotent: false, signal: caller.signal }, (info) => {
        signal = info.signal;
        return new Promise(() => undefined);
      })
      .catch(() => undefined);
    await vi.advanceTimersByTimeAsync(0);

    // Act
    caller.abort(new Error('handler gave up'));

    // Assess
    expect(signal?.aborted).toBe(true);
  });

  it('rejects with MESH_CANCELLED without calling the attempt when the caller already aborted', async () => {
    // Prepare
    const policy = new ServicePolicy({ service: 'contact-service' });
    const caller = new AbortController();
    caller.abort(new Error('handler gave up'));
    const attempt = vi.fn(() => Promise.resolve('never'));

    // Act
    const result = policy.execute({ method: 'GetUserInfo', idempotent: true, signal: caller.signal }, attempt);

    // Assess
    await expect(result).rejects.toMatchObject({ code: 'MESH_CANCELLED', cause: caller.signal.reason });
    expect(attempt).not.toHaveBeenCalled();
  });

  it.each([
    ['succeeds', () => Promise.resolve('ok')],
    ['fails without retry', () => Promise.reject(grpcError(status.NOT_FOUND))],
    ['exhausts its retries', () => Promise.reject(grpcError(status.UNAVAILABLE))],
  ])('leaves no timer pending once a call that %s settles', async (_name, attempt) => {
    // Prepare
    const policy = new ServicePolicy({ service: 'contact-service' });

    // Act
    const outcome = await settleAfter(policy.execute({ method: 'GetUserInfo', idempotent: true }, attempt), 5_000);

    // Assess
    expect(outcome.status).not.toBe('pending');
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('callDeadline', () => {
  it.each([
    [{ timeoutSeconds: 10, safetyMarginMs: 500 }, 60_000, 10_000],
    [{ timeoutSeconds: 10, safetyMarginMs: 500 }, 3_000, 2_500],
    [{ timeoutSeconds: 1, safetyMarginMs: 500 }, 400, -100],
  ])('with %o and %d ms remaining is %d ms from now', (limits, remaining, expected) => {
    expect(callDeadline(1_000, limits, () => remaining)).toBe(1_000 + expected);
  });
});
