import { isBulkheadRejectedError } from 'cockatiel';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MeshCallError } from '../../../shared/errors.js';
import { ServicePolicy, type CallContext } from '../../../shared/resilience/index.js';
import { deferred, settleAfter, track, type Deferred } from './support.js';

const call: CallContext = { method: 'GetFamilyMembers', idempotent: true };

/** An attempt function whose calls stay in flight until the test resolves them; counts concurrency. */
function heldAttempts() {
  const held: Deferred<string>[] = [];
  const counts = { inFlight: 0, maxInFlight: 0 };
  const attempt = vi.fn(async () => {
    counts.inFlight += 1;
    counts.maxInFlight = Math.max(counts.maxInFlight, counts.inFlight);
    const d = deferred<string>();
    held.push(d);
    try {
      return await d.promise;
    } finally {
      counts.inFlight -= 1;
    }
  });
  return { attempt, held, counts };
}

describe('the bulkhead of a ServicePolicy', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('runs at most maxConcurrentCalls attempts at once and queues the rest until slots free up', async () => {
    // Prepare
    const policy = new ServicePolicy({ service: 'contact-service', maxConcurrentCalls: 2, maxQueued: 10 });
    const { attempt, held, counts } = heldAttempts();

    // Act
    const calls = Array.from({ length: 6 }, () => policy.execute(call, attempt));
    await vi.advanceTimersByTimeAsync(0);
    const startedBeforeRelease = attempt.mock.calls.length;
    for (let released = 0; released < 6; released += 1) {
      held[released]?.resolve(`member-${released}`);
      await vi.advanceTimersByTimeAsync(0);
    }

    // Assess
    expect(startedBeforeRelease).toBe(2);
    expect(counts.maxInFlight).toBe(2);
    await expect(Promise.all(calls)).resolves.toEqual(
      ['member-0', 'member-1', 'member-2', 'member-3', 'member-4', 'member-5'],
    );
  });

  it('rejects with MESH_BULKHEAD_FULL once slots and queue are taken, without calling the attempt', async () => {
    // Prepare
    const policy = new ServicePolicy({ service: 'contact-service', maxConcurrentCalls: 1, maxQueued: 1 });
    const { attempt, held } = heldAttempts();
    const running = policy.execute(call, attempt);
    const queued = policy.execute(call, attempt);
    await vi.advanceTimersByTimeAsync(0);

    // Act
    const third = await settleAfter(policy.execute(call, attempt), 0);

    // Assess
    expect(third.status).toBe('rejected');
    expect(third.reason).toBeInstanceOf(MeshCallError);
    expect(third.reason).toMatchObject({
      code: 'MESH_BULKHEAD_FULL',
      service: 'contact-service',
      method: 'GetFamilyMembers',
    });
    expect(isBulkheadRejectedError((third.reason as Error).cause)).toBe(true);
    expect(attempt).toHaveBeenCalledTimes(1);
    held[0]?.resolve('a');
    await vi.advanceTimersByTimeAsync(0);
    held[1]?.resolve('b');
    await expect(Promise.all([running, queued])).resolves.toEqual(['a', 'b']);
  });

  it('gives up on a queued call at its deadline with MESH_NO_TIME_LEFT and never runs it', async () => {
    // Prepare
    const policy = new ServicePolicy({ service: 'contact-service', timeoutSeconds: 1, maxConcurrentCalls: 1 });
    const { attempt, held } = heldAttempts();
    const running = track(policy.execute({ ...call, idempotent: false }, attempt));
    const queued = track(policy.execute({ ...call, idempotent: false }, attempt));

    // Act
    await vi.advanceTimersByTimeAsync(1_000);
    const queuedAtDeadline = { ...queued };
    held[0]?.resolve('late');
    await vi.advanceTimersByTimeAsync(0);

    // Assess
    expect(queuedAtDeadline.status).toBe('rejected');
    expect(queuedAtDeadline.reason).toMatchObject({ code: 'MESH_NO_TIME_LEFT' });
    expect(running.status).toBe('fulfilled');
    expect(attempt).toHaveBeenCalledTimes(1);
  });

  it('does not start a queued call that gets its slot with less than minAttemptMs left', async () => {
    // Prepare
    const policy = new ServicePolicy({ service: 'contact-service', timeoutSeconds: 1, maxConcurrentCalls: 1 });
    const { attempt, held } = heldAttempts();
    const running = track(policy.execute({ ...call, idempotent: false }, attempt));
    const queued = track(policy.execute({ ...call, idempotent: false }, attempt));
    await vi.advanceTimersByTimeAsync(980);

    // Act: the slot frees 20 ms before the queued call's deadline, below minAttemptMs (50).
    held[0]?.resolve('slow');
    await vi.advanceTimersByTimeAsync(0);

    // Assess
    expect(running.status).toBe('fulfilled');
    expect(queued.status).toBe('rejected');
    expect(queued.reason).toMatchObject({
      code: 'MESH_NO_TIME_LEFT',
      message: expect.stringMatching(/has 20 ms left/),
    });
    expect(attempt).toHaveBeenCalledTimes(1);
  });

  it('keeps the bulkheads of two services independent', async () => {
    // Prepare
    const contact = new ServicePolicy({ service: 'contact-service', maxConcurrentCalls: 1, maxQueued: 0 });
    const billing = new ServicePolicy({ service: 'billing-service', maxConcurrentCalls: 1, maxQueued: 0 });
    const { attempt, held } = heldAttempts();
    const running = contact.execute(call, attempt);
    await vi.advanceTimersByTimeAsync(0);

    // Act
    const other = track(billing.execute(call, attempt));
    await vi.advanceTimersByTimeAsync(0);

    // Assess
    expect(attempt).toHaveBeenCalledTimes(2);
    held.forEach((d) => d.resolve('ok'));
    await expect(running).resolves.toBe('ok');
    await vi.advanceTimersByTimeAsync(0);
    expect(other.status).toBe('fulfilled');
  });
});
