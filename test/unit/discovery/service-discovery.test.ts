import { describe, expect, it } from 'vitest';
import { DiscoveryError, type SourceFailure } from '../../../shared/discovery/discovery-error.js';
import type { DiscoverySource, DiscoverySourceName, DiscoveryTarget } from '../../../shared/discovery/discovery-source.js';
import type { ServiceAddress } from '../../../shared/discovery/service-address.js';
import { ServiceDiscovery, type ServiceDiscoveryOverrides, type StaleEvent } from '../../../shared/discovery/service-discovery.js';
import { StaticSource } from '../../../shared/discovery/static-source.js';
import { failureOf } from '../../fixtures/failure-of.js';

const CONTACT: DiscoveryTarget = { name: 'contact-service', address: { host: '127.0.0.9', port: 50051 } };
const A = { host: '10.0.0.1', port: 50051 };
const B = { host: '10.0.0.2', port: 50051 };

/** A source the test scripts: each call takes the next answer (the last one repeats). */
class ScriptedSource implements DiscoverySource {
  calls = 0;
  readonly #answers: (() => Promise<ServiceAddress[]>)[];

  constructor(
    readonly name: DiscoverySourceName,
    ...answers: (() => Promise<ServiceAddress[]>)[]
  ) {
    this.#answers = answers;
  }

  resolve(): Promise<ServiceAddress[]> {
    const answer = this.#answers[Math.min(this.calls, this.#answers.length - 1)];
    this.calls++;
    return answer ? answer() : Promise.resolve([]);
  }
}

const answer = (...addresses: ServiceAddress[]) => () => Promise.resolve(addresses);
const fail = (message: string) => () => Promise.reject(new Error(message));
const hang = () => new Promise<ServiceAddress[]>(() => {});

function discovery(sources: DiscoverySource[], options: ServiceDiscoveryOverrides = {}) {
  const clock = { now: 1_000_000 };
  const stale: StaleEvent[] = [];
  const failures: SourceFailure[] = [];
  const d = new ServiceDiscovery([CONTACT], sources, {
    now: () => clock.now,
    onStale: (event) => stale.push(event),
    onSourceFailure: (_, failure) => failures.push(failure),
    ...options,
  });
  return { d, clock, stale, failures };
}


describe('ServiceDiscovery', () => {
  it('answers from the first source that knows instances', async () => {
    const cloudmap = new ScriptedSource('cloudmap', answer(A, B));
    const dns = new ScriptedSource('dns', answer(B));
    const { d } = discovery([cloudmap, dns]);

    const resolution = await d.resolve('contact-service');

    expect(resolution).toMatchObject({ service: 'contact-service', addresses: [A, B], source: 'cloudmap', stale: false });
    expect(dns.calls).toBe(0);
  });

  it('falls through a failing and then an empty source, reporting each', async () => {
    const { d, failures } = discovery([new ScriptedSource('cloudmap', fail('boom')), new ScriptedSource('dns', answer()), new StaticSource()]);

    const resolution = await d.resolve('contact-service');

    expect(resolution.source).toBe('static');
    expect(resolution.addresses).toEqual([{ host: '127.0.0.9', port: 50051 }]);
    expect(failures.map((f) => `${f.source}:${f.code}`)).toEqual(['cloudmap:DISCOVERY_SOURCE_FAILED', 'dns:DISCOVERY_NO_INSTANCES']);
  });

  it('reuses a result for the TTL and looks again after it', async () => {
    const cloudmap = new ScriptedSource('cloudmap', answer(A), answer(B));
    const { d, clock } = discovery([cloudmap], { ttlMs: 30_000 });

    const first = await d.resolve('contact-service');
    clock.now += 29_999;
    const cached = await d.resolve('contact-service');
    clock.now += 1;
    const next = await d.resolve('contact-service');

    expect(cached).toBe(first);
    expect(next.addresses).toEqual([B]);
    expect(cloudmap.calls).toBe(2);
    expect(d.stats('contact-service')).toMatchObject({ lookups: 3, cacheHits: 1, fetches: 2 });
  });

  it('runs one lookup for concurrent callers', async () => {
    let release: (addresses: ServiceAddress[]) => void = () => {};
    const cloudmap = new ScriptedSource('cloudmap', () => new Promise((resolve) => (release = resolve)));
    const { d } = discovery([cloudmap]);

    const waiting = Array.from({ length: 50 }, () => d.resolve('contact-service'));
    await Promise.resolve();
    release([A]);
    const all = await Promise.all(waiting);

    expect(new Set(all).size).toBe(1);
    expect(cloudmap.calls).toBe(1);
  });

  it('serves the last good result when every source fails, and reports it as stale', async () => {
    const cloudmap = new ScriptedSource('cloudmap', answer(A, B), fail('cloud map is down'));
    const dns = new ScriptedSource('dns', fail('dns is down'));
    const { d, clock, stale } = discovery([cloudmap, dns], { ttlMs: 30_000 });

    await d.resolve('contact-service');
    clock.now += 31_000;
    const served = await d.resolve('contact-service');

    expect(served).toMatchObject({ addresses: [A, B], source: 'cloudmap', stale: true });
    expect(stale).toHaveLength(1);
    expect(stale[0]?.ageMs).toBe(31_000);
    expect(stale[0]?.failures.map((f) => f.message)).toEqual(['Error: cloud map is down', 'Error: dns is down']);
  });

  it('waits before trying failed sources again while serving stale, then recovers', async () => {
    const cloudmap = new ScriptedSource('cloudmap', answer(A), fail('down'), answer(B));
    const { d, clock } = discovery([cloudmap], { ttlMs: 30_000, staleRetryMs: 5_000 });

    await d.resolve('contact-service');
    clock.now += 30_000;
    await d.resolve('contact-service'); // fails: stale
    clock.now += 4_999;
    const stillStale = await d.resolve('contact-service');
    clock.now += 1;
    const recovered = await d.resolve('contact-service');

    expect(stillStale.stale).toBe(true);
    expect(cloudmap.calls).toBe(3);
    expect(recovered).toMatchObject({ addresses: [B], stale: false });
  });

  it('fails with DISCOVERY_FAILED naming the service and every source when there never was a result', async () => {
    const noStatic = new ServiceDiscovery([{ name: 'billing' }], [new ScriptedSource('cloudmap', fail('throttled')), new ScriptedSource('dns', answer()), new StaticSource()]);

    const error = await failureOf(noStatic.resolve('billing'), DiscoveryError);

    expect(error.code).toBe('DISCOVERY_FAILED');
    expect(error.service).toBe('billing');
    expect(error.failures.map((f) => f.source)).toEqual(['cloudmap', 'dns', 'static']);
    expect(error.message).toContain('service billing could not be discovered');
    expect(error.message).toContain('cloudmap: Error: throttled');
    expect(error.message).toContain('dns: dns lists no instances of billing');
    expect(error.message).toContain('static: service billing has no static address configured');
  });

  it('never caches a failure: the next lookup tries again', async () => {
    const cloudmap = new ScriptedSource('cloudmap', fail('down'), answer(A));
    const d = new ServiceDiscovery([{ name: 'billing' }], [cloudmap]);

    await failureOf(d.resolve('billing'), DiscoveryError);
    const resolution = await d.resolve('billing');

    expect(resolution.addresses).toEqual([A]);
  });

  it('gives a hanging source only its budget before trying the next', async () => {
    const { d, failures } = discovery([new ScriptedSource('cloudmap', hang), new ScriptedSource('dns', answer(B))], {
      sourceBudgetMs: { cloudmap: 100 },
    });
    const started = Date.now();

    const resolution = await d.resolve('contact-service');

    expect(resolution.source).toBe('dns');
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(failures[0]).toMatchObject({ source: 'cloudmap', code: 'DISCOVERY_TIMEOUT' });
  });

  it('lets a caller stop waiting without cancelling the shared lookup', async () => {
    let release: (addresses: ServiceAddress[]) => void = () => {};
    const { d } = discovery([new ScriptedSource('cloudmap', () => new Promise((resolve) => (release = resolve)))]);
    const caller = new AbortController();

    const abandoned = d.resolve('contact-service', { signal: caller.signal });
    const patient = d.resolve('contact-service');
    caller.abort();
    release([A]);

    expect((await failureOf(abandoned, DiscoveryError)).code).toBe('DISCOVERY_ABORTED');
    expect((await patient).addresses).toEqual([A]);
  });

  it('looks again within the TTL when asked to refresh, but not twice within the refresh floor', async () => {
    const cloudmap = new ScriptedSource('cloudmap', answer(A), answer(B));
    const { d, clock } = discovery([cloudmap], { ttlMs: 30_000, refreshFloorMs: 5_000 });

    await d.resolve('contact-service');
    clock.now += 1_000;
    const tooSoon = await d.resolve('contact-service', { refresh: true });
    clock.now += 4_000;
    const refreshed = await d.resolve('contact-service', { refresh: true });

    expect(tooSoon.addresses).toEqual([A]);
    expect(refreshed.addresses).toEqual([B]);
    expect(cloudmap.calls).toBe(2);
  });

  it('rejects a service that is not configured', async () => {
    const { d } = discovery([new StaticSource()]);

    const error = await failureOf(d.resolve('billing'), DiscoveryError);

    expect(error.code).toBe('DISCOVERY_UNKNOWN_SERVICE');
    expect(error.message).toBe('service billing is not configured (configured: contact-service)');
  });

  it('drops repeated addresses from a source', async () => {
    const { d } = discovery([new ScriptedSource('cloudmap', answer(A, { ...A }, B))]);

    expect((await d.resolve('contact-service')).addresses).toEqual([A, B]);
  });
});
