import { DiscoverInstancesCommand, ServiceDiscoveryClient } from '@aws-sdk/client-servicediscovery';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadMeshConfig } from '../../../shared/config/load-mesh-config.js';
import { discoveryFromConfig, type DiscoveryFromConfigOptions } from '../../../shared/discovery/discovery-from-config.js';
import type { StaleEvent } from '../../../shared/discovery/service-discovery.js';
import { LocalDnsServer } from '../../local/dns-server.js';

/** The whole chain as configured: Cloud Map (mocked: no local implementation), a real DNS server, the static address. */
const cloudMap = mockClient(ServiceDiscoveryClient);
const client = new ServiceDiscoveryClient({ region: 'eu-west-1', credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test' } });
let dns: LocalDnsServer;

beforeAll(async () => {
  dns = await LocalDnsServer.start();
});
afterAll(async () => {
  await dns.close();
});
afterEach(() => {
  cloudMap.reset();
  dns.reset();
});

function configFor(env: Record<string, string> = {}) {
  return loadMeshConfig({
    SERVICE_MESH_SPIFFE_ID: 'spiffe://jia.app/payment-functions',
    SERVICE_MESH_DISCOVERY_NAMESPACE: 'mesh.local',
    SERVICE_MESH_DISCOVERY_DNS_SERVERS: dns.address,
    EXTERNAL_SERVICES_CONTACT_SERVICE_ADDRESS: '127.0.0.9:50051',
    ...env,
  });
}

function chain(env: Record<string, string> = {}, options: DiscoveryFromConfigOptions = {}) {
  const stale: StaleEvent[] = [];
  const discovery = discoveryFromConfig(configFor(env), { cloudMapClient: client, onStale: (e) => stale.push(e), ...options });
  return { discovery, stale };
}

const instances = (...ips: string[]) => ({
  Instances: ips.map((ip, i) => ({ InstanceId: `i-${i}`, Attributes: { AWS_INSTANCE_IPV4: ip, AWS_INSTANCE_PORT: '50051' } })),
});
const throttled = () => Object.assign(new Error('Rate exceeded'), { name: 'RequestLimitExceeded' });

describe('discovery built from the mesh configuration', () => {
  it('resolves through Cloud Map first', async () => {
    cloudMap.on(DiscoverInstancesCommand, { NamespaceName: 'mesh.local', ServiceName: 'contact-service' }).resolves(instances('10.0.0.1', '10.0.0.2'));
    const { discovery } = chain();

    const resolution = await discovery.resolve('contact-service');

    expect(resolution.source).toBe('cloudmap');
    expect(resolution.addresses).toEqual([
      { host: '10.0.0.1', port: 50051 },
      { host: '10.0.0.2', port: 50051 },
    ]);
    expect(dns.queries).toEqual([]);
  });

  it('falls through to DNS when Cloud Map is throttled (RequestLimitExceeded)', async () => {
    cloudMap.on(DiscoverInstancesCommand).rejects(throttled());
    dns.setA('contact-service.mesh.local', '127.0.0.21');
    const { discovery } = chain();

    const resolution = await discovery.resolve('contact-service');

    expect(resolution).toMatchObject({ source: 'dns', addresses: [{ host: '127.0.0.21', port: 50051 }] });
    expect([...dns.queries].sort()).toEqual([
      'A contact-service.mesh.local',
      'AAAA contact-service.mesh.local',
      'SRV _grpc._tcp.contact-service.mesh.local',
      'SRV contact-service.mesh.local',
    ]);
  });

  it('falls through to DNS within the Cloud Map budget when Cloud Map does not answer', async () => {
    cloudMap.on(DiscoverInstancesCommand).callsFake(() => new Promise(() => {}));
    dns.setA('contact-service.mesh.local', '127.0.0.21');
    const { discovery } = chain({}, { sourceBudgetMs: { cloudmap: 200 } });
    const started = Date.now();

    const resolution = await discovery.resolve('contact-service');

    expect(resolution.source).toBe('dns');
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('falls through to DNS when Cloud Map lists no instances, or fails', async () => {
    dns.setSrv('_grpc._tcp.contact-service.mesh.local', [{ target: 'c1.mesh.local', port: 7001 }]).setA('c1.mesh.local', '127.0.0.31');
    cloudMap.on(DiscoverInstancesCommand).resolvesOnce({ Instances: [] }).rejects(Object.assign(new Error('x'), { name: 'InternalServerError' }));

    const empty = await chain().discovery.resolve('contact-service');
    const failed = await chain().discovery.resolve('contact-service');

    expect(empty).toMatchObject({ source: 'dns', addresses: [{ host: '127.0.0.31', port: 7001 }] });
    expect(failed.source).toBe('dns');
  });

  it('uses the static address when Cloud Map and DNS both fail', async () => {
    cloudMap.on(DiscoverInstancesCommand).rejects(throttled());
    dns.mode = 'servfail';

    const resolution = await chain().discovery.resolve('contact-service');

    expect(resolution).toMatchObject({ source: 'static', addresses: [{ host: '127.0.0.9', port: 50051 }] });
  });

  it('sends at most one DiscoverInstances per service per TTL over 1000 lookups', async () => {
    cloudMap.on(DiscoverInstancesCommand).resolves(instances('10.0.0.1'));
    const clock = { now: 0 };
    const { discovery } = chain({ SERVICE_MESH_DISCOVERY_TTL_SECONDS: '30' }, { now: () => clock.now });

    for (let i = 0; i < 1000; i++) {
      await discovery.resolve('contact-service');
      clock.now += 100; // 1000 lookups over 100 s: four 30 s windows
    }

    expect(cloudMap.commandCalls(DiscoverInstancesCommand)).toHaveLength(4);
    expect(discovery.stats('contact-service')).toMatchObject({ lookups: 1000, fetches: 4, cacheHits: 996 });
  });

  it('drops an instance deregistered from Cloud Map once the TTL ends', async () => {
    cloudMap.on(DiscoverInstancesCommand).resolvesOnce(instances('10.0.0.1', '10.0.0.2')).resolves(instances('10.0.0.2'));
    const clock = { now: 0 };
    const { discovery } = chain({ SERVICE_MESH_DISCOVERY_TTL_SECONDS: '30' }, { now: () => clock.now });

    await discovery.resolve('contact-service');
    clock.now = 29_000;
    const beforeTtl = await discovery.resolve('contact-service');
    clock.now = 30_000;
    const afterTtl = await discovery.resolve('contact-service');

    expect(beforeTtl.addresses).toHaveLength(2);
    expect(afterTtl.addresses).toEqual([{ host: '10.0.0.2', port: 50051 }]);
  });

  // A service with no static address, so the chain can run dry.
  const NO_STATIC = { EXTERNAL_SERVICES_CONTACT_SERVICE_ADDRESS: '', EXTERNAL_SERVICES_CONTACT_SERVICE_TIMEOUT_SECONDS: '5' };

  it('serves the last good result through an outage of every source, and reports it', async () => {
    cloudMap.on(DiscoverInstancesCommand).resolvesOnce(instances('10.0.0.1')).rejects(throttled());
    const clock = { now: 0 };
    const { discovery, stale } = chain(NO_STATIC, { now: () => clock.now });
    await discovery.resolve('contact-service');
    dns.mode = 'servfail';
    clock.now = 60_000;

    const served = await discovery.resolve('contact-service');

    expect(served).toMatchObject({ source: 'cloudmap', stale: true, addresses: [{ host: '10.0.0.1', port: 50051 }] });
    expect(stale).toHaveLength(1);
    expect(stale[0]?.failures.map((f) => f.code)).toEqual(['DISCOVERY_THROTTLED', 'DISCOVERY_SOURCE_FAILED', 'DISCOVERY_NOT_CONFIGURED']);
  });

  it('fails naming the service and each source when there never was a result', async () => {
    cloudMap.on(DiscoverInstancesCommand).rejects(throttled());
    dns.mode = 'servfail';
    const { discovery } = chain(NO_STATIC);

    const error = await discovery.resolve('contact-service').catch((e: unknown) => e);

    expect(error).toMatchObject({ name: 'DiscoveryError', code: 'DISCOVERY_FAILED', service: 'contact-service' });
    expect((error as Error).message).toMatch(/^service contact-service could not be discovered: cloudmap: .*RequestLimitExceeded; dns: .*ESERVFAIL; static: /);
  });

  it('follows the configured scheme: dns skips Cloud Map', async () => {
    dns.setA('contact-service.mesh.local', '127.0.0.21');

    const resolution = await chain({ SERVICE_MESH_DISCOVERY_SCHEME: 'dns' }).discovery.resolve('contact-service');

    expect(resolution.source).toBe('dns');
    expect(cloudMap.commandCalls(DiscoverInstancesCommand)).toHaveLength(0);
  });
});

describe('discovery built from the mesh configuration, DNS first (SERVICE_MESH_DISCOVERY_DNS_FIRST)', () => {
  const DNS_FIRST = { SERVICE_MESH_DISCOVERY_DNS_FIRST: 'true' };

  it("resolves through Cloud Map's DNS records without asking the Cloud Map API", async () => {
    dns
      .setSrv('contact-service.mesh.local', [{ target: 'contact-1.contact-service.mesh.local', port: 7001, priority: 1, weight: 1 }])
      .setA('contact-1.contact-service.mesh.local', '127.0.0.41');
    cloudMap.on(DiscoverInstancesCommand).resolves(instances('10.0.0.1'));

    const resolution = await chain(DNS_FIRST).discovery.resolve('contact-service');

    expect(resolution).toMatchObject({ source: 'dns', addresses: [{ host: '127.0.0.41', port: 7001 }] });
    expect(cloudMap.commandCalls(DiscoverInstancesCommand)).toHaveLength(0);
  });

  it('falls back to the Cloud Map API when DNS has no records of the service', async () => {
    cloudMap.on(DiscoverInstancesCommand, { NamespaceName: 'mesh.local', ServiceName: 'contact-service' }).resolves(instances('10.0.0.1'));

    const resolution = await chain(DNS_FIRST).discovery.resolve('contact-service');

    expect(resolution).toMatchObject({ source: 'cloudmap', addresses: [{ host: '10.0.0.1', port: 50051 }] });
    expect(dns.queries).toContain('SRV contact-service.mesh.local');
  });

  it('falls back to the Cloud Map API within the DNS budget when DNS does not answer', async () => {
    dns.mode = 'silent';
    cloudMap.on(DiscoverInstancesCommand).resolves(instances('10.0.0.1'));
    const started = Date.now();

    const resolution = await chain(DNS_FIRST, { sourceBudgetMs: { dns: 200 } }).discovery.resolve('contact-service');

    expect(resolution.source).toBe('cloudmap');
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('uses the static address when DNS and the Cloud Map API both fail', async () => {
    dns.mode = 'servfail';
    cloudMap.on(DiscoverInstancesCommand).rejects(throttled());

    const resolution = await chain(DNS_FIRST).discovery.resolve('contact-service');

    expect(resolution).toMatchObject({ source: 'static', addresses: [{ host: '127.0.0.9', port: 50051 }] });
  });
});
