import { experimental, status, type ServiceConfig } from '@grpc/grpc-js';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DiscoveryError } from '../../../shared/discovery/discovery-error.js';
import { clearDiscoveryRegistry, registerDiscovery, setDefaultDiscovery } from '../../../shared/discovery/discovery-registry.js';
import type { Discovery, Resolution, ResolveOptions } from '../../../shared/discovery/discovery.js';
import { MeshResolver, meshTarget, registerMeshResolver } from '../../../shared/discovery/mesh-resolver.js';
import { MockDiscovery } from '../../../shared/discovery/mock-discovery.js';

/** What the channel's listener was told, one entry per call. */
interface Report {
  endpoints: string[] | undefined;
  error: { code: number; details: string } | undefined;
  serviceConfig: ServiceConfig | null | undefined;
}

const CONTACT = { scheme: 'mesh', path: 'contact-service' };
const open: experimental.Resolver[] = [];

beforeAll(() => {
  registerMeshResolver();
});
afterEach(() => {
  for (const resolver of open.splice(0)) resolver.destroy();
  clearDiscoveryRegistry();
});

/** A resolver made the way grpc-js makes it, with a listener that records every report. */
function resolverFor(target = CONTACT, options: Record<string, unknown> = {}) {
  const reports: Report[] = [];
  const resolver = experimental.createResolver(
    target,
    (endpoints, _attributes, serviceConfig) => {
      reports.push({
        endpoints: endpoints.ok ? endpoints.value.flatMap((e) => e.addresses.map((a) => ('host' in a ? `${a.host}:${a.port}` : a.path))) : undefined,
        error: endpoints.ok ? undefined : { code: endpoints.error.code, details: endpoints.error.details },
        serviceConfig: serviceConfig === null ? null : serviceConfig.ok ? serviceConfig.value : undefined,
      });
      return true;
    },
    options,
  );
  open.push(resolver);
  return { resolver, reports };
}

async function until(condition: () => boolean, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('MeshResolver', () => {
  it('hands the channel every instance and a round_robin service config, never synchronously', async () => {
    registerDiscovery('contact-service', new MockDiscovery().register('contact-service', '127.0.0.1:7001', '[::1]:7002'));
    const { resolver, reports } = resolverFor();

    resolver.updateResolution();
    expect(reports).toHaveLength(0);
    await until(() => reports.length === 1);

    expect(reports[0]).toEqual({
      endpoints: ['127.0.0.1:7001', '::1:7002'],
      error: undefined,
      serviceConfig: { loadBalancingConfig: [{ round_robin: {} }], methodConfig: [] },
    });
  });

  it('asks discovery to refresh when gRPC re-resolves after the first result, and reports only a change', async () => {
    const asked: (ResolveOptions | undefined)[] = [];
    const mock = new MockDiscovery({ ttlMs: 60_000 }).register('contact-service', '127.0.0.1:7001');
    const spy: Discovery = { resolve: (service, options) => (asked.push(options), mock.resolve(service)) };
    registerDiscovery('contact-service', spy);
    const { resolver, reports } = resolverFor();

    resolver.updateResolution();
    await until(() => reports.length === 1);
    resolver.updateResolution(); // what grpc-js does when a connection fails: within 1 s of the last look, so deferred
    await until(() => asked.length === 2);
    mock.register('contact-service', '127.0.0.1:7002');
    resolver.updateResolution();
    await until(() => reports.length === 2);

    expect(asked.map((o) => o?.refresh)).toEqual([false, true, true]);
    expect(reports.map((r) => r.endpoints)).toEqual([['127.0.0.1:7001'], ['127.0.0.1:7002']]);
  });

  it('serves re-resolution requests at most once a second, however often gRPC asks', async () => {
    const mock = new MockDiscovery({ ttlMs: 60_000 }).register('contact-service', '127.0.0.1:7001');
    registerDiscovery('contact-service', mock);
    const { resolver, reports } = resolverFor();
    resolver.updateResolution();
    await until(() => reports.length === 1);

    const started = Date.now();
    while (Date.now() - started < 1_500) {
      resolver.updateResolution();
      await new Promise((resolve) => setTimeout(resolve, 5));
    }

    expect(mock.lookupCount('contact-service')).toBeGreaterThanOrEqual(2);
    expect(mock.lookupCount('contact-service')).toBeLessThanOrEqual(3);
  });

  it('survives a balancer that asks again from inside every report (as round_robin does)', async () => {
    const mock = new MockDiscovery({ ttlMs: 60_000 }).register('contact-service', '127.0.0.1:7001');
    registerDiscovery('contact-service', mock);
    let reports = 0;
    let resolver: experimental.Resolver | undefined;
    resolver = experimental.createResolver(CONTACT, () => (reports++, resolver?.updateResolution(), true), {});
    open.push(resolver);

    resolver.updateResolution();
    await new Promise((resolve) => setTimeout(resolve, 300)); // a microtask loop would never get here

    expect(reports).toBe(1);
    expect(mock.lookupCount('contact-service')).toBe(1);
  });

  it('looks again when the result expires and reports only a change', async () => {
    const mock = new MockDiscovery({ ttlMs: 60 }).register('contact-service', '127.0.0.1:7001', '127.0.0.1:7002');
    setDefaultDiscovery(mock);
    const { resolver, reports } = resolverFor();

    resolver.updateResolution();
    await until(() => mock.lookupCount('contact-service') >= 3);
    const unchangedReports = reports.length;
    mock.register('contact-service', '127.0.0.1:7002'); // 7001 deregistered
    await until(() => reports.length === 2);

    expect(unchangedReports).toBe(1);
    expect(reports[1]?.endpoints).toEqual(['127.0.0.1:7002']);
  });

  it('reports a failed lookup as UNAVAILABLE naming the service, and tries again later', async () => {
    const mock = new MockDiscovery();
    registerDiscovery('contact-service', mock);
    const { resolver, reports } = resolverFor();

    resolver.updateResolution();
    await until(() => reports.length === 1);
    mock.register('contact-service', '127.0.0.1:7001');
    await until(() => reports.length === 2, 3_000); // the retry after the first failure (1 s)

    expect(reports[0]?.error?.code).toBe(status.UNAVAILABLE);
    expect(reports[0]?.error?.details).toBe('mesh discovery of contact-service failed: service contact-service is not registered with the mock discovery');
    expect(reports[1]?.endpoints).toEqual(['127.0.0.1:7001']);
  });

  it('says how to fix a service no discovery answers for', async () => {
    const { resolver, reports } = resolverFor();

    resolver.updateResolution();
    await until(() => reports.length === 1);

    expect(reports[0]?.error?.details).toContain('no discovery is registered for service contact-service: call registerDiscovery or setDefaultDiscovery first');
  });

  it('stops looking and drops late answers once destroyed', async () => {
    let release: (r: Resolution) => void = () => {};
    let lookups = 0;
    registerDiscovery('contact-service', { resolve: () => (lookups++, new Promise((resolve) => (release = resolve))) });
    const { resolver, reports } = resolverFor();

    resolver.updateResolution();
    await until(() => lookups === 1);
    resolver.destroy();
    release({ service: 'contact-service', addresses: [{ host: '127.0.0.1', port: 1 }], source: 'mock', resolvedAt: 0, expiresAt: 0, stale: false });
    await new Promise((resolve) => setTimeout(resolve, 200));

    expect(reports).toHaveLength(0);
    expect(lookups).toBe(1);
  });

  it('keeps no timer that holds the process open', async () => {
    registerDiscovery('contact-service', new MockDiscovery({ ttlMs: 60_000 }).register('contact-service', '127.0.0.1:7001'));
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = timers();
    const { resolver, reports } = resolverFor();

    resolver.updateResolution();
    await until(() => reports.length === 1);

    expect(timers()).toBe(before);
  });

  it('leaves the service config to the channel when asked to (grpc.service_config_disable_resolution)', async () => {
    registerDiscovery('contact-service', new MockDiscovery().register('contact-service', '127.0.0.1:7001'));
    const { resolver, reports } = resolverFor(CONTACT, { 'grpc.service_config_disable_resolution': 1 });

    resolver.updateResolution();
    await until(() => reports.length === 1);

    expect(reports[0]?.serviceConfig).toBeNull();
  });

  it('names the service as the default authority and rejects targets that are not mesh:///<service>', () => {
    expect(MeshResolver.getDefaultAuthority({ scheme: 'mesh', path: 'contact-service' })).toBe('contact-service');
    expect(MeshResolver.getDefaultAuthority({ scheme: 'mesh', authority: '', path: 'contact-service' })).toBe('contact-service');
    for (const bad of [
      { scheme: 'mesh', authority: 'ns', path: 'contact-service' },
      { scheme: 'mesh', path: 'a/b' },
      { scheme: 'mesh', path: '' },
    ]) {
      expect(() => MeshResolver.getDefaultAuthority(bad)).toThrow(DiscoveryError);
    }
  });

  it('gives the channel target of a service', () => {
    expect(meshTarget('contact-service')).toBe('mesh:///contact-service');
  });
});
