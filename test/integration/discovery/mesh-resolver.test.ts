import { DiscoverInstancesCommand, ServiceDiscoveryClient } from '@aws-sdk/client-servicediscovery';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadMeshConfig } from '../../../shared/config/load-mesh-config.js';
import { discoveryFromConfig, type DiscoveryFromConfigOptions } from '../../../shared/discovery/discovery-from-config.js';
import { clearDiscoveryRegistry, registerDiscovery } from '../../../shared/discovery/discovery-registry.js';
import { meshTarget } from '../../../shared/discovery/mesh-resolver.js';
import type { ServiceDiscovery } from '../../../shared/discovery/service-discovery.js';
import { svidMaterialFromParts } from '../../../shared/identity/svid-material.js';
import { matchId } from '../../../shared/spiffe/match.js';
import { parseSpiffeId } from '../../../shared/spiffe/spiffe-id.js';
import { ContactClient } from '../../../shared/transport/contact-client.js';
import { MeshChannel, type ChannelIdentity } from '../../../shared/transport/mesh-channel.js';
import { startContactService, type ContactServiceHandle } from '../../local/contact-service.js';
import { DevCa } from '../../local/dev-ca.js';
import { LocalDnsServer } from '../../local/dns-server.js';

/**
 * A real grpc-js channel with target `mesh:///contact-service` over mutual TLS (MeshChannel), its
 * addresses from discovery (Cloud Map mocked: it has no local implementation; DNS a real server),
 * calling two reference contact-service instances on loopback.
 */
const SERVICE = 'contact-service';
const cloudMap = mockClient(ServiceDiscoveryClient);
const cloudMapClient = new ServiceDiscoveryClient({ region: 'eu-west-1', credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test' } });

let ca: DevCa;
let one: ContactServiceHandle;
let two: ContactServiceHandle;
let dns: LocalDnsServer;
let identity: ChannelIdentity;
const channels: MeshChannel[] = [];

beforeAll(async () => {
  ca = await DevCa.create('jia.app');
  const [serverSvid, clientSvid] = await Promise.all([ca.mintSvid('spiffe://jia.app/contact-service'), ca.mintSvid('spiffe://jia.app/payment-functions')]);
  [one, two, dns] = await Promise.all([
    startContactService({ svid: serverSvid, bundlePem: ca.bundlePem }),
    startContactService({ svid: serverSvid, bundlePem: ca.bundlePem }),
    LocalDnsServer.start(),
  ]);
  const material = svidMaterialFromParts(
    { certChainPem: clientSvid.certChainPem, privateKeyPem: clientSvid.privateKeyPem, bundlePem: ca.bundlePem, federatedBundles: {} },
    'the test client',
  );
  identity = { current: async () => material, subscribe: () => () => {} };
});

afterAll(async () => {
  await Promise.all([one?.close(), two?.close(), dns?.close()]);
});

beforeEach(async () => {
  await Promise.all([one.start(), two.start()]);
});

afterEach(() => {
  for (const channel of channels.splice(0)) channel.close();
  clearDiscoveryRegistry();
  cloudMap.reset();
  dns.reset();
});

/** Discovery as configured for a function, with Cloud Map behind the mock. */
function discoveryFor(env: Record<string, string> = {}, options: DiscoveryFromConfigOptions = {}): ServiceDiscovery {
  const config = loadMeshConfig({
    SERVICE_MESH_SPIFFE_ID: 'spiffe://jia.app/payment-functions',
    SERVICE_MESH_DISCOVERY_NAMESPACE: 'mesh.local',
    SERVICE_MESH_DISCOVERY_DNS_SERVERS: dns.address,
    EXTERNAL_SERVICES_CONTACT_SERVICE_TIMEOUT_SECONDS: '5',
    ...env,
  });
  const discovery = discoveryFromConfig(config, { cloudMapClient, onStale: () => {}, ...options });
  registerDiscovery(SERVICE, discovery);
  return discovery;
}

function contactClient(): ContactClient {
  const channel = new MeshChannel({
    service: SERVICE,
    target: meshTarget(SERVICE),
    identity,
    authorize: matchId(parseSpiffeId('spiffe://jia.app/contact-service')),
  });
  channels.push(channel);
  return new ContactClient(channel, { timeoutSeconds: 5 });
}

const instancesOf = (...services: ContactServiceHandle[]) => ({
  Instances: services.map((s, i) => ({ InstanceId: `i-${i}`, Attributes: { AWS_INSTANCE_IPV4: '127.0.0.1', AWS_INSTANCE_PORT: String(s.port) } })),
});

/** Calls until both instances have answered once (both connections are up), then returns. */
async function warmUp(client: ContactClient): Promise<void> {
  const calls = countCalls();
  for (let i = 0; i < 50 && calls().includes(0); i++) await client.getUserInfo('user-1');
  if (calls().includes(0)) throw new Error(`both instances should answer within 50 calls, got ${String(calls())}`);
}

async function until(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Call counts of both instances from now on. */
function countCalls() {
  const start = [one.callCount, two.callCount];
  return () => [one.callCount - (start[0] ?? 0), two.callCount - (start[1] ?? 0)];
}

describe('a mesh:///contact-service channel', () => {
  it('round-robins calls across two instances discovered through Cloud Map', async () => {
    cloudMap.on(DiscoverInstancesCommand, { NamespaceName: 'mesh.local', ServiceName: SERVICE }).resolves(instancesOf(one, two));
    discoveryFor();
    const client = contactClient();

    await warmUp(client);
    const calls = countCalls();
    for (let i = 0; i < 20; i++) expect((await client.getUserInfo('user-1')).name).toBe('Ada Lovelace');

    expect(calls()).toEqual([10, 10]);
    expect(cloudMap.commandCalls(DiscoverInstancesCommand)).toHaveLength(1);
  });

  it('sends every call started after an instance is killed to the other one', async () => {
    cloudMap.on(DiscoverInstancesCommand).resolves(instancesOf(one, two));
    discoveryFor();
    const client = contactClient();
    await warmUp(client);
    const calls = countCalls();

    const results: string[] = [];
    for (let i = 0; i < 40; i++) {
      if (i === 10) await one.stop();
      results.push(await client.getUserInfo('user-1').then((u) => u.id, (e: unknown) => `failed: ${String(e)}`));
    }
    const [onOne = 0, onTwo = 0] = calls();

    expect(results.filter((r) => r !== 'user-1')).toEqual([]);
    expect(onOne).toBe(5); // calls 0..9 alternate; none after the kill
    expect(onTwo).toBe(35);
  });

  it('skips an instance that refuses connections and re-resolves the name', async () => {
    await one.stop(); // listed, but refuses connections
    cloudMap.on(DiscoverInstancesCommand).resolvesOnce(instancesOf(one, two)).resolves(instancesOf(two));
    const discovery = discoveryFor({}, { refreshFloorMs: 0 });
    const client = contactClient();
    const calls = countCalls();

    for (let i = 0; i < 10; i++) await client.getUserInfo('user-1');
    // Within the 30 s TTL only gRPC's re-resolution request can cause a second lookup (at most once a second).
    await until(() => discovery.stats(SERVICE).fetches >= 2);
    for (let i = 0; i < 10; i++) await client.getUserInfo('user-1');

    expect(calls()).toEqual([0, 20]);
  });

  it('stops sending calls to an instance deregistered from Cloud Map once the TTL ends', async () => {
    cloudMap.on(DiscoverInstancesCommand).resolves(instancesOf(one, two));
    discoveryFor({ SERVICE_MESH_DISCOVERY_TTL_SECONDS: '1' });
    const client = contactClient();
    await warmUp(client);

    cloudMap.on(DiscoverInstancesCommand).resolves(instancesOf(two)); // `one` deregistered, still up
    const deadline = Date.now() + 1_500;
    while (Date.now() < deadline) await client.getUserInfo('user-1');
    const calls = countCalls();
    for (let i = 0; i < 20; i++) await client.getUserInfo('user-1');

    expect(calls()).toEqual([0, 20]);
  });

  it('resolves through DNS SRV when Cloud Map is throttled', async () => {
    cloudMap.on(DiscoverInstancesCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'RequestLimitExceeded' }));
    dns
      .setSrv('_grpc._tcp.contact-service.mesh.local', [
        { target: 'one.contact-service.mesh.local', port: one.port },
        { target: 'two.contact-service.mesh.local', port: two.port },
      ])
      .setA('one.contact-service.mesh.local', '127.0.0.1')
      .setA('two.contact-service.mesh.local', '127.0.0.1');
    const discovery = discoveryFor();
    const client = contactClient();

    await warmUp(client);
    const calls = countCalls();
    for (let i = 0; i < 10; i++) await client.getUserInfo('user-1');

    expect(discovery.peek(SERVICE)?.source).toBe('dns');
    expect(calls()).toEqual([5, 5]);
  });
});
