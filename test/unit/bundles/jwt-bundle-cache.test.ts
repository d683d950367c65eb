import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { JwtBundleCache, type JwtBundleFetch } from '../../../shared/bundles/jwt-bundle-cache.js';
import { JwtBundle } from '../../../shared/spiffe/jwt-bundle.js';
import { JwtBundleError } from '../../../shared/spiffe/jwt-svid-error.js';
import { parseTrustDomain } from '../../../shared/spiffe/trust-domain.js';

const td = parseTrustDomain('jia.app');
let jwk: JWK;

beforeAll(async () => {
  jwk = await exportJWK((await generateKeyPair('ES256', { extractable: true })).publicKey);
});

const bundleOf = (kids: string[], refreshHint?: number) =>
  JwtBundle.parse(td, { keys: kids.map((kid) => ({ ...jwk, kid, use: 'jwt-svid' })), ...(refreshHint === undefined ? {} : { spiffe_refresh_hint: refreshHint }) });

/** A fetch answering from a script of results, counting calls; `hold` makes the next one wait. */
function scriptedFetch(...script: (JwtBundle | Error)[]) {
  let calls = 0;
  let release: (() => void) | undefined;
  let held: Promise<void> | undefined;
  const fetch: JwtBundleFetch = async (signal) => {
    const result = script[Math.min(calls, script.length - 1)]!;
    calls++;
    if (held) {
      await Promise.race([held, new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error)))]);
    }
    if (result instanceof Error) throw result;
    return result;
  };
  return {
    fetch,
    get calls() {
      return calls;
    },
    hold() {
      held = new Promise((resolve) => (release = resolve));
    },
    release() {
      held = undefined;
      release?.();
    },
  };
}

function clock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (seconds: number) => (now += seconds * 1000) };
}

const fetchError = () => new JwtBundleError('JWT_BUNDLE_FETCH_FAILED', 'bundle endpoint down');

describe('JwtBundleCache', () => {
  it('fetches once and serves the cached bundle until its spiffe_refresh_hint falls due', async () => {
    const time = clock();
    const source = scriptedFetch(bundleOf(['k1'], 60), bundleOf(['k1', 'k2'], 60));
    const cache = new JwtBundleCache(source.fetch, { now: time.now });

    await cache.get();
    time.advance(59);
    const beforeDue = await cache.get();
    time.advance(1);
    const afterDue = await cache.get();

    expect(beforeDue.keyIds).toEqual(['k1']);
    expect(afterDue.keyIds).toEqual(['k1', 'k2']);
    expect(source.calls).toBe(2);
  });

  it('refreshes every 5 minutes when the bundle has no refresh hint', async () => {
    const time = clock();
    const source = scriptedFetch(bundleOf(['k1']));
    const cache = new JwtBundleCache(source.fetch, { now: time.now });

    await cache.get();
    time.advance(299);
    await cache.get();
    time.advance(1);
    await cache.get();

    expect(source.calls).toBe(2);
  });

  it('lets a hundred concurrent requests share one fetch', async () => {
    const source = scriptedFetch(bundleOf(['k1']));
    source.hold();
    const cache = new JwtBundleCache(source.fetch);

    const all = Promise.all(Array.from({ length: 100 }, () => cache.get()));
    source.release();
    await all;

    expect(source.calls).toBe(1);
  });

  it('refreshes once for an unknown kid, then not again during the cooldown', async () => {
    const time = clock();
    const source = scriptedFetch(bundleOf(['k1']), bundleOf(['k1', 'rotated']));
    const cache = new JwtBundleCache(source.fetch, { now: time.now, unknownKeyCooldownSeconds: 30 });
    await cache.get();

    const rotated = await cache.get({ keyId: 'rotated' });
    await cache.get({ keyId: 'forged-1' });
    time.advance(29);
    await cache.get({ keyId: 'forged-2' });
    time.advance(1);
    await cache.get({ keyId: 'forged-3' });

    expect(rotated.hasAuthority('rotated')).toBe(true);
    expect(source.calls).toBe(3); // the first fetch, 'rotated', and 'forged-3' after the cooldown
  });

  it('keeps the last good bundle when a refresh fails, says so, and retries after a pause', async () => {
    const time = clock();
    const source = scriptedFetch(bundleOf(['k1'], 60), fetchError(), bundleOf(['k2'], 60));
    const stale: unknown[] = [];
    const cache = new JwtBundleCache(source.fetch, { now: time.now, retryAfterFailureSeconds: 10, onStale: (error) => stale.push(error) });
    await cache.get();

    time.advance(60);
    const kept = await cache.get();
    time.advance(9);
    await cache.get();
    time.advance(1);
    const next = await cache.get();

    expect(kept.keyIds).toEqual(['k1']);
    expect(stale).toHaveLength(1);
    expect((stale[0] as JwtBundleError).code).toBe('JWT_BUNDLE_FETCH_FAILED');
    expect(next.keyIds).toEqual(['k2']);
    expect(source.calls).toBe(3);
  });

  it('does not fetch again for an unknown kid right after a refresh failed', async () => {
    const time = clock();
    const source = scriptedFetch(bundleOf(['k1'], 60), fetchError());
    const cache = new JwtBundleCache(source.fetch, { now: time.now, retryAfterFailureSeconds: 10 });
    await cache.get();

    time.advance(60);
    const bundle = await cache.get({ keyId: 'unknown' });

    expect(bundle.keyIds).toEqual(['k1']);
    expect(source.calls).toBe(2); // the first fetch and the failed due refresh, not a third
  });

  it('throws the fetch error when there is no bundle yet, and does not cache the error', async () => {
    const source = scriptedFetch(fetchError(), bundleOf(['k1']));
    const cache = new JwtBundleCache(source.fetch);

    await expect(cache.get()).rejects.toMatchObject({ code: 'JWT_BUNDLE_FETCH_FAILED' });
    await expect(cache.get()).resolves.toBeInstanceOf(JwtBundle);
  });

  it('never waits past the request\'s deadline, and aborts a fetch it started', async () => {
    const source = scriptedFetch(bundleOf(['k1']));
    source.hold();
    const cache = new JwtBundleCache(source.fetch);

    const started = Date.now();
    const error = await cache.get({ deadline: Date.now() + 50 }).catch((e: unknown) => e);

    expect((error as JwtBundleError).code).toBe('JWT_BUNDLE_TIMEOUT');
    expect(Date.now() - started).toBeLessThan(2_000);
    source.release();
  });

  it('gives up at once when the deadline has already passed', async () => {
    const source = scriptedFetch(bundleOf(['k1']));
    const cache = new JwtBundleCache(source.fetch);

    await expect(cache.get({ deadline: Date.now() - 1 })).rejects.toMatchObject({ code: 'JWT_BUNDLE_TIMEOUT' });
    expect(source.calls).toBe(0);
  });

  it('lets a caller with less time stop waiting for a fetch another caller started', async () => {
    const source = scriptedFetch(bundleOf(['k1']));
    source.hold();
    const cache = new JwtBundleCache(source.fetch, { fetchTimeoutMs: 5_000 });

    const patient = cache.get();
    const hurried = await cache.get({ deadline: Date.now() + 30 }).catch((e: unknown) => e);
    source.release();

    expect((hurried as JwtBundleError).code).toBe('JWT_BUNDLE_TIMEOUT');
    await expect(patient).resolves.toBeInstanceOf(JwtBundle);
    expect(source.calls).toBe(1);
  });
});
