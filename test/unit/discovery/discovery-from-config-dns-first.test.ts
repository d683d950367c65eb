import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { loadMeshConfig } from '../../../shared/config/load-mesh-config.js';
import { discoveryFromConfig } from '../../../shared/discovery/discovery-from-config.js';
import { LocalDnsServer } from '../../local/dns-server.js';
import { OFFLINE_AWS_CREDENTIALS } from '../../fixtures/offline-aws-credentials.js';

/**
 * `discoveryFromConfig` with `SERVICE_MESH_DISCOVERY_DNS_FIRST`, in a file of its own because
 * `discovery-from-config.test.ts` imports the SDK (for aws-sdk-client-mock). What DNS first saves
 * a cold start: the Cloud Map SDK is never loaded while DNS answers. The SDK module is watched
 * (the real one, loaded through the mock's factory) rather than mocked, and the fallback reaches a
 * Cloud Map stand-in on 127.0.0.1 through `AWS_ENDPOINT_URL_SERVICEDISCOVERY` with the real
 * client. Nothing in this file imports the SDK itself.
 */
const sdk = vi.hoisted(() => ({ loads: 0 }));
vi.mock('@aws-sdk/client-servicediscovery', async (importOriginal) => {
  sdk.loads++;
  return importOriginal();
});

let dns: LocalDnsServer;
let cloudMap: Server;
let cloudMapCalls = 0;

beforeAll(async () => {
  dns = await LocalDnsServer.start();
  cloudMap = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      cloudMapCalls++;
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(JSON.stringify({ Instances: [{ InstanceId: 'contact-1', Attributes: { AWS_INSTANCE_IPV4: '127.0.0.51', AWS_INSTANCE_PORT: '7005' } }], InstancesRevision: 1 }));
    });
  });
  await new Promise<void>((resolve) => cloudMap.listen(0, '127.0.0.1', resolve));
});
afterAll(async () => {
  vi.unstubAllEnvs();
  await dns.close();
  await new Promise((resolve) => cloudMap.close(resolve));
});
beforeEach(() => {
  dns.reset();
  vi.stubEnv('AWS_ENDPOINT_URL_SERVICEDISCOVERY', `http://127.0.0.1:${(cloudMap.address() as AddressInfo).port}`);
  vi.stubEnv('AWS_REGION', 'eu-west-1');
  for (const [name, value] of Object.entries(OFFLINE_AWS_CREDENTIALS)) vi.stubEnv(name, value);
});

function dnsFirstDiscovery() {
  const config = loadMeshConfig({
    SERVICE_MESH_SPIFFE_ID: 'spiffe://jia.app/payment-functions',
    SERVICE_MESH_DISCOVERY_NAMESPACE: 'mesh.local',
    SERVICE_MESH_DISCOVERY_DNS_SERVERS: dns.address,
    SERVICE_MESH_DISCOVERY_DNS_FIRST: 'true',
    EXTERNAL_SERVICES_CONTACT_SERVICE_TIMEOUT_SECONDS: '5', // no static address: DNS or Cloud Map must answer
  });
  return discoveryFromConfig(config, { onStale: () => {} });
}

// In this order: the module, once loaded, stays loaded for the rest of the file.
describe('DNS-first discovery at a cold start', () => {
  it('loads no Cloud Map SDK when DNS answers', async () => {
    dns.setA('contact-service.mesh.local', '127.0.0.41');

    const resolution = await dnsFirstDiscovery().resolve('contact-service');

    expect(resolution).toMatchObject({ source: 'dns', addresses: [{ host: '127.0.0.41', port: 50051 }] });
    expect(sdk.loads).toBe(0);
    expect(cloudMapCalls).toBe(0);
  });

  it('loads the Cloud Map SDK and asks the API only when DNS has no answer', async () => {
    const resolution = await dnsFirstDiscovery().resolve('contact-service');

    expect(resolution).toMatchObject({ source: 'cloudmap', addresses: [{ host: '127.0.0.51', port: 7005 }] });
    expect(sdk.loads).toBe(1);
    expect(cloudMapCalls).toBe(1);
  });
});
