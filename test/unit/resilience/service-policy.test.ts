import { status } from '@grpc/grpc-js';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ConfigError } from '../../../shared/errors.js';
import {
  RESILIENCE_DEFAULTS,
  ServicePolicy,
  type AttemptEvent,
  type AttemptInfo,
  type CallContext,
} from '../../../shared/resilience/index.js';
import { grpcError, settleAfter } from './support.js';

const call: CallContext = { method: 'GetUserInfo', idempotent: true };

describe('ServicePolicy', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  it('returns the attempt value and passes a gRPC error through as the very same object', async () => {
    // Prepare
    const policy = new ServicePolicy({ service: 'contact-service' });
    const notFound = grpcError(status.NOT_FOUND, 'user u-404');

    // Act
    const value = await policy.execute(call, () => Promise.resolve({ id: 'u-1' }));
    const failure = policy.execute(call, () => Promise.reject(notFound));

    // Assess
    expect(value).toEqual({ id: 'u-1' });
    await expect(failure).rejects.toBe(notFound);
  });

  it('reports every attempt to onAttempt listeners with number, duration and outcome', async () => {
    // Prepare
    const policy = new ServicePolicy({ service: 'contact-service' });
    const events: AttemptEvent[] = [];
    const where = { service: 'contact-service', method: 'GetUserInfo' };
    policy.onAttempt((event) => events.push(event));
    const unavailable = grpcError(status.UNAVAILABLE);
    const attempt = vi.fn(async (info: AttemptInfo) => {
      await new Promise((resolve) => setTimeout(resolve, 25));
      if (info.attempt === 1) throw unavailable;
      return 'ok';
    });

    // Act
    await settleAfter(policy.execute(call, attempt), 5_000);

    // Assess
    expect(events).toEqual([
      { ...where, attempt: 1, durationMs: 25, error: unavailable, outcome: 'error' },
      { ...where, attempt: 2, durationMs: 25, outcome: 'ok' },
    ]);
  });

  it('keeps a call working when a listener throws, and reports the listener failure as a warning', async () => {
    // Prepare
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const policy = new ServicePolicy({ service: 'contact-service' });
    policy.onAttempt(() => {
      throw new Error('metrics backend down');
    });

    // Act
    const value = await policy.execute(call, () => Promise.resolve('ok'));

    // Assess
    expect(value).toBe('ok');
    expect(warn).toHaveBeenCalledTimes(1);
  });

  it('releases a half-open probe slot when the caller cancels the probe, without counting it', async () => {
    // Prepare
    const policy = new ServicePolicy({
      service: 'contact-service',
      circuitBreaker: { failureThreshold: 1, halfOpenMaxCalls: 1, successThreshold: 1 },
    });
    const fail = () => Promise.reject(grpcError(status.UNAVAILABLE));
    await policy.execute({ ...call, idempotent: false }, fail).catch(() => undefined);
    await vi.advanceTimersByTimeAsync(60_000);
    const caller = new AbortController();
    const cancelledProbe = policy.execute({ ...call, signal: caller.signal }, ({ signal }) => {
      const cancelled = grpcError(status.CANCELLED);
      return new Promise<never>((_resolve, reject) => signal.addEventListener('abort', () => reject(cancelled)));
    });
    await vi.advanceTimersByTimeAsync(0);

    // Act
    caller.abort();
    await expect(cancelledProbe).rejects.toMatchObject({ code: status.CANCELLED });
    const stateAfterCancel = policy.state;
    const next = await policy.execute(call, () => Promise.resolve('probe ok'));

    // Assess
    expect(stateAfterCancel).toBe('half-open');
    expect(next).toBe('probe ok');
    expect(policy.state).toBe('closed');
  });

  it('applies the mesh defaults and merges nested overrides field by field', () => {
    // Act
    const policy = new ServicePolicy({ service: 'contact-service', circuitBreaker: { failureThreshold: 3 } });

    // Assess
    expect(policy.options).toEqual({
      ...RESILIENCE_DEFAULTS,
      service: 'contact-service',
      circuitBreaker: { failureThreshold: 3, successThreshold: 2, timeoutSeconds: 60, halfOpenMaxCalls: 3 },
    });
    expect(RESILIENCE_DEFAULTS).toMatchObject({
      timeoutSeconds: 10,
      safetyMarginMs: 500,
      minAttemptMs: 50,
      retry: { maxAttempts: 2, initialDelayMs: 50, maxDelayMs: 1000 },
      maxConcurrentCalls: 16,
      maxQueued: 256,
    });
  });

  it.each([
    [{ timeoutSeconds: 0 }, 'timeoutSeconds'],
    [{ retry: { maxAttempts: 1.5 } }, 'retry.maxAttempts'],
    [{ retry: { initialDelayMs: 500, maxDelayMs: 100 } }, 'retry.maxDelayMs'],
    [{ circuitBreaker: { failureThreshold: 0 } }, 'circuitBreaker.failureThreshold'],
    [{ maxConcurrentCalls: Number.NaN }, 'maxConcurrentCalls'],
  ])('rejects the invalid override %o with CONFIG_INVALID naming %s', (override, key) => {
    expect(() => new ServicePolicy({ service: 'contact-service', ...override })).toThrow(ConfigError);
    expect(() => new ServicePolicy({ service: 'contact-service', ...override })).toThrow(`resilience option ${key} `);
  });
});
