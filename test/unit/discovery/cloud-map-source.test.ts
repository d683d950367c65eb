import { DiscoverInstancesCommand, ServiceDiscoveryClient } from '@aws-sdk/client-servicediscovery';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { CloudMapSource, cloudMapClient } from '../../../shared/discovery/cloud-map-source.js';
import { DiscoveryError, isDiscoveryError } from '../../../shared/discovery/discovery-error.js';
import { failureOf } from '../../fixtures/failure-of.js';

const cloudMap = mockClient(ServiceDiscoveryClient);
const client = new ServiceDiscoveryClient({ region: 'eu-west-1', credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test' } });
const CONTACT = { name: 'contact-service' };
const never = new AbortController().signal;

afterEach(() => {
  cloudMap.reset();
});

function instance(id: string, attributes: Record<string, string>) {
  return { InstanceId: id, NamespaceName: 'mesh.local', ServiceName: 'contact-service', Attributes: attributes };
}


describe('CloudMapSource', () => {
  it('asks DiscoverInstances for the service in the namespace, healthy or else all', async () => {
    cloudMap.on(DiscoverInstancesCommand).resolves({
      Instances: [
        instance('a', { AWS_INSTANCE_IPV4: '10.0.0.1', AWS_INSTANCE_PORT: '50051' }),
        instance('b', { AWS_INSTANCE_IPV6: 'fd00::2', AWS_INSTANCE_PORT: '7000' }),
      ],
    });
    const source = new CloudMapSource({ namespace: 'mesh.local', client });

    const addresses = await source.resolve(CONTACT, never);

    expect(addresses).toEqual([
      { host: '10.0.0.1', port: 50051 },
      { host: 'fd00::2', port: 7000 },
    ]);
    expect(cloudMap.commandCalls(DiscoverInstancesCommand)[0]?.args[0].input).toEqual({
      NamespaceName: 'mesh.local',
      ServiceName: 'contact-service',
      HealthStatus: 'HEALTHY_OR_ELSE_ALL',
    });
    expect(source.callCount).toBe(1);
  });

  it('uses the answer when every instance is unhealthy (Cloud Map then lists them all)', async () => {
    cloudMap.on(DiscoverInstancesCommand, { HealthStatus: 'HEALTHY_OR_ELSE_ALL' }).resolves({
      Instances: [
        { ...instance('a', { AWS_INSTANCE_IPV4: '10.0.0.1', AWS_INSTANCE_PORT: '50051' }), HealthStatus: 'UNHEALTHY' },
        { ...instance('b', { AWS_INSTANCE_IPV4: '10.0.0.2', AWS_INSTANCE_PORT: '50051' }), HealthStatus: 'UNHEALTHY' },
      ],
    });
    const source = new CloudMapSource({ namespace: 'mesh.local', client });

    expect(await source.resolve(CONTACT, never)).toHaveLength(2);
  });

  it("takes the port from the static address, else 50051, when an instance has no AWS_INSTANCE_PORT", async () => {
    cloudMap.on(DiscoverInstancesCommand).resolves({ Instances: [instance('a', { AWS_INSTANCE_IPV4: '10.0.0.1' })] });
    const source = new CloudMapSource({ namespace: 'mesh.local', client });

    expect(await source.resolve(CONTACT, never)).toEqual([{ host: '10.0.0.1', port: 50051 }]);
    expect(await source.resolve({ name: 'contact-service', address: { host: 'x', port: 8443 } }, never)).toEqual([{ host: '10.0.0.1', port: 8443 }]);
  });

  it('skips instances without an IP address and answers empty when none has one', async () => {
    cloudMap.on(DiscoverInstancesCommand).resolves({ Instances: [instance('a', { AWS_INSTANCE_CNAME: 'a.example' }), instance('b', { AWS_INSTANCE_IPV4: 'not-an-ip' })] });
    const source = new CloudMapSource({ namespace: 'mesh.local', client });

    expect(await source.resolve(CONTACT, never)).toEqual([]);
  });

  it('reports throttling as DISCOVERY_THROTTLED', async () => {
    cloudMap.on(DiscoverInstancesCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'RequestLimitExceeded' }));
    const source = new CloudMapSource({ namespace: 'mesh.local', client });

    const error = await failureOf(source.resolve(CONTACT, never), DiscoveryError);

    expect(error.code).toBe('DISCOVERY_THROTTLED');
    expect(error.message).toContain('RequestLimitExceeded');
    expect(error.service).toBe('contact-service');
  });

  it('reports any other error as DISCOVERY_SOURCE_FAILED naming the error', async () => {
    cloudMap.on(DiscoverInstancesCommand).rejects(Object.assign(new Error('no such namespace'), { name: 'NamespaceNotFound' }));
    const source = new CloudMapSource({ namespace: 'mesh.local', client });

    const error = await failureOf(source.resolve(CONTACT, never), DiscoveryError);

    expect(error.code).toBe('DISCOVERY_SOURCE_FAILED');
    expect(error.message).toContain('NamespaceNotFound');
  });

  it('is not configured without a namespace, and sends nothing', async () => {
    const source = new CloudMapSource({ namespace: undefined, client });

    expect(isDiscoveryError(await failureOf(source.resolve(CONTACT, never), DiscoveryError), 'DISCOVERY_NOT_CONFIGURED')).toBe(true);
    expect(cloudMap.commandCalls(DiscoverInstancesCommand)).toHaveLength(0);
  });
});

describe('cloudMapClient', () => {
  it('turns off the data- host prefix only behind an endpoint override', async () => {
    const prefixOf = async (env: NodeJS.ProcessEnv) => (await (await cloudMapClient(env)).config.disableHostPrefix) === true;

    expect(await prefixOf({})).toBe(false);
    expect(await prefixOf({ AWS_ENDPOINT_URL_SERVICEDISCOVERY: 'http://127.0.0.1:4566' })).toBe(true);
    expect(await prefixOf({ AWS_ENDPOINT_URL: 'http://127.0.0.1:4566' })).toBe(true);
    expect(await prefixOf({ AWS_ENDPOINT_URL: 'http://127.0.0.1:4566', AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'true' })).toBe(false);
  });
});
