import { DiscoverInstancesCommand, ServiceDiscoveryClient } from '@aws-sdk/client-servicediscovery';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { CloudMapSource, cloudMapClient } from '../../../shared/discovery/cloud-map-source.js';
import { OFFLINE_AWS_CREDENTIALS } from '../../fixtures/offline-aws-credentials.js';

/**
 * The real SDK client (no mock) against a Cloud Map stand-in on 127.0.0.1, reached through the
 * standard `AWS_ENDPOINT_URL_SERVICEDISCOVERY` override, as a local emulator would be.
 */
interface Received {
  headers: IncomingHttpHeaders;
  body: unknown;
}

let server: Server;
let endpoint: string;
const received: Received[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(
        JSON.stringify({
          Instances: [{ InstanceId: 'i-1', Attributes: { AWS_INSTANCE_IPV4: '127.0.0.1', AWS_INSTANCE_PORT: '50051' } }],
          InstancesRevision: 7,
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  vi.unstubAllEnvs();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  received.length = 0;
  vi.stubEnv('AWS_ENDPOINT_URL_SERVICEDISCOVERY', endpoint);
  vi.stubEnv('AWS_REGION', 'eu-west-1');
  for (const [name, value] of Object.entries(OFFLINE_AWS_CREDENTIALS)) vi.stubEnv(name, value);
});

describe('the Cloud Map client behind AWS_ENDPOINT_URL_SERVICEDISCOVERY', () => {
  it('sends DiscoverInstances to the override itself, not to a data- host', async () => {
    const source = new CloudMapSource({ namespace: 'mesh.local' }); // builds its client from the environment

    const addresses = await source.resolve({ name: 'contact-service' }, new AbortController().signal);

    expect(addresses).toEqual([{ host: '127.0.0.1', port: 50051 }]);
    expect(received).toHaveLength(1);
    expect(received[0]?.headers.host).toBe(endpoint.replace('http://', ''));
    expect(received[0]?.headers['x-amz-target']).toBe('Route53AutoNaming_v20170314.DiscoverInstances');
    expect(received[0]?.body).toEqual({ NamespaceName: 'mesh.local', ServiceName: 'contact-service', HealthStatus: 'HEALTHY_OR_ELSE_ALL' });
  });

  it('would otherwise prefix the host with data- (why disableHostPrefix is set)', async () => {
    let hostname: string | undefined;
    const capture = {
      handle: async (request: { hostname: string }) => {
        hostname = request.hostname;
        throw new Error('captured, not sent');
      },
    };
    const plain = new ServiceDiscoveryClient({ maxAttempts: 1, requestHandler: capture as never });
    const fixed = await cloudMapClient();
    Object.assign(fixed.config, { requestHandler: capture });

    await plain.send(new DiscoverInstancesCommand({ NamespaceName: 'mesh.local', ServiceName: 'contact-service' })).catch(() => {});
    const unfixed = hostname;
    await fixed.send(new DiscoverInstancesCommand({ NamespaceName: 'mesh.local', ServiceName: 'contact-service' })).catch(() => {});

    expect(unfixed).toBe('data-127.0.0.1');
    expect(hostname).toBe('127.0.0.1');
    expect(received).toHaveLength(0);
  });
});
