import { describe, expect, it, vi } from 'vitest';
import { CachedSecret } from '../../../shared/secrets/cached-secret.js';

/** A fetch whose answers are scripted one call at a time, and a clock the test moves. */
function scripted(answers: Array<string | Error>) {
  const clock = { now: 1_000_000 };
  const fetch = vi.fn(async () => {
    const answer = answers.shift();
    if (answer === undefined) throw new Error('no more scripted answers');
    if (answer instanceof Error) throw answer;
    return answer;
  });
  return { clock, fetch, now: () => clock.now };
}

describe('CachedSecret', () => {
  it('fetches once and serves the cached value until the TTL has passed', async () => {
    const { clock, fetch, now } = scripted(['one', 'two']);
    const secret = new CachedSecret(fetch, { ttlMs: 60_000, now });

    const values = [];
    for (let i = 0; i < 5; i++) {
      values.push(await secret.get());
      clock.now += 10_000;
    }

    expect(values).toEqual(['one', 'one', 'one', 'one', 'one']);
    expect(fetch).toHaveBeenCalledTimes(1);
  });

  it('refetches on the first use after the TTL', async () => {
    const { clock, fetch, now } = scripted(['one', 'two']);
    const secret = new CachedSecret(fetch, { ttlMs: 60_000, now });
    await secret.get();

    clock.now += 59_999;
    const before = await secret.get();
    clock.now += 1;
    const after = await secret.get();

    expect(before).toBe('one');
    expect(after).toBe('two');
    expect(secret.fetchCount).toBe(2);
  });

  it('keeps the last good value when a refresh fails, tells listeners, and retries after the back-off', async () => {
    const outage = Object.assign(new Error('throttled'), { name: 'ThrottlingException' });
    const { clock, fetch, now } = scripted(['one', outage, 'two']);
    const secret = new CachedSecret(fetch, { ttlMs: 60_000, retryAfterFailureMs: 5_000, now });
    const errors: unknown[] = [];
    secret.onRefreshError((error) => errors.push(error));
    await secret.get();

    clock.now += 60_000;
    const duringOutage = await secret.get();
    clock.now += 4_999;
    const withinBackOff = await secret.get();
    clock.now += 1;
    const recovered = await secret.get();

    expect([duringOutage, withinBackOff, recovered]).toEqual(['one', 'one', 'two']);
    expect(errors).toEqual([outage]);
    expect(fetch).toHaveBeenCalledTimes(3);
  });

  it('never caches an error: a failed first fetch throws and the next use fetches again', async () => {
    const denied = Object.assign(new Error('denied'), { name: 'AccessDeniedException' });
    const { fetch, now } = scripted([denied, 'one']);
    const secret = new CachedSecret(fetch, { now });

    await expect(secret.get()).rejects.toBe(denied);
    await expect(secret.get()).resolves.toBe('one');
    expect(fetch).toHaveBeenCalledTimes(2);
  });

  it('shares one fetch in flight between concurrent uses', async () => {
    let release: (value: string) => void = () => undefined;
    const fetch = vi.fn(() => new Promise<string>((resolve) => (release = resolve)));
    const secret = new CachedSecret(fetch);

    const both = Promise.all([secret.get(), secret.get()]);
    release('one');

    expect(await both).toEqual(['one', 'one']);
    expect(fetch).toHaveBeenCalledTimes(1);
  });

  it('leaves no timer behind', async () => {
    vi.useFakeTimers();
    try {
      const secret = new CachedSecret(async () => 'one');
      await secret.get();
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });
});
