/**
 * The fault matrix, discovery faults: the real grant-entitlements handler (a fresh container per
 * test) discovering the contact-service through Cloud Map (mocked at the SDK: it has no local
 * implementation), a real DNS server on loopback, and the static address, with Cloud Map
 * throttled and with every source down.
 */
import { DiscoverInstancesCommand, ServiceDiscoveryClient } from '@aws-sdk/client-servicediscovery';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EntitlementStore } from '../../shared/entitlements/entitlement-store.js';
import {
  command,
  ENTITLEMENTS_TABLE,
  sqsEvent,
  startFunctionEnvironment,
  type FunctionEnvironment,
} from '../fixtures/function-environment.js';
import { LocalDnsServer } from '../local/dns-server.js';
import { auditTheWholeFile, auditedLogs, coldStart, context, sleep, until, type GrantHandler } from './harness.js';
import { SimulatedSqs } from './simulated-sqs.js';

const NAMESPACE = 'mesh.local';
const SRV_NAME = `_grpc._tcp.contact-service.${NAMESPACE}`;
const INSTANCE_HOST = `contact-1.${NAMESPACE}`;
/** Discard: nothing listens there, so a call that fell through to this static address would fail. */
const DEAD_ADDRESS = '127.0.0.1:9';

const cloudMap = mockClient(ServiceDiscoveryClient);
let env: FunctionEnvironment;
let base: NodeJS.ProcessEnv;
let store: EntitlementStore;
let dns: LocalDnsServer;
const logs = auditedLogs();

beforeAll(async () => {
  [env, dns] = await Promise.all([startFunctionEnvironment(), LocalDnsServer.start()]);
  base = { ...process.env };
  store = new EntitlementStore({ tableName: ENTITLEMENTS_TABLE });
});
afterEach(() => {
  cloudMap.reset();
  dns.reset();
});
afterAll(async () => {
  cloudMap.restore();
  await Promise.all([env.close(), dns.close()]);
});

/** A function discovering through Cloud Map first, then our DNS server, then `address` (if any). */
function cloudMapEnv(address: string | undefined, extra: Record<string, string> = {}) {
  return {
    SERVICE_MESH_DISCOVERY_SCHEME: 'cloudmap',
    SERVICE_MESH_DISCOVERY_NAMESPACE: NAMESPACE,
    SERVICE_MESH_DISCOVERY_DNS_SERVERS: dns.address,
    EXTERNAL_SERVICES_CONTACT_SERVICE_ADDRESS: address,
    ...extra,
  };
}

function throttled(): Error {
  return Object.assign(new Error('Rate exceeded'), { name: 'RequestLimitExceeded', $metadata: { httpStatusCode: 400 } });
}

/** Grants one fresh entitlement through `grant`; returns the response and whether family-1 now holds it. */
async function grantOne(grant: GrantHandler, entitlement: string) {
  const queue = new SimulatedSqs();
  const event = command({ entitlement });
  queue.send(JSON.stringify(event));
  const records = queue.receive(1);
  const response = await grant(sqsEvent(...records), context());
  const held = await Promise.all(
    ['user-1', 'user-2', 'user-3'].map(async (id) => (await store.list(id)).find((e) => e.name === entitlement)?.eventId),
  );
  return { response, granted: held.every((eventId) => eventId === event.eventId) };
}

describe('fault matrix: discovery', () => {
  it('Cloud Map throttled: discovery falls through to DNS SRV, and to the static address when DNS fails too', async () => {
    cloudMap.on(DiscoverInstancesCommand).rejects(throttled());
    dns.setSrv(SRV_NAME, [{ target: INSTANCE_HOST, port: env.mesh.contact.port }]).setA(INSTANCE_HOST, '127.0.0.1');
    const viaDns = await coldStart('grant', base, cloudMapEnv(DEAD_ADDRESS));

    const first = await grantOne(viaDns, 'throttled-dns');

    expect(first).toEqual({ response: { batchItemFailures: [] }, granted: true });
    expect(cloudMap.commandCalls(DiscoverInstancesCommand).map((c) => c.args[0].input)).toEqual([
      { NamespaceName: NAMESPACE, ServiceName: 'contact-service', HealthStatus: 'HEALTHY_OR_ELSE_ALL' },
    ]);
    expect(dns.queries).toContain(`SRV ${SRV_NAME}`);
    expect(dns.queries).toContain(`A ${INSTANCE_HOST}`);

    dns.mode = 'servfail';
    const viaStatic = await coldStart('grant', base, cloudMapEnv(env.mesh.contact.address));

    const second = await grantOne(viaStatic, 'throttled-static');

    expect(second).toEqual({ response: { batchItemFailures: [] }, granted: true });
    expect(cloudMap.commandCalls(DiscoverInstancesCommand)).toHaveLength(2);
    expect(dns.queries.filter((q) => q === `SRV ${SRV_NAME}`)).toHaveLength(2);
  });

  it('every discovery source down: the last good result is served (and reported) instead of failing calls', async () => {
    cloudMap
      .on(DiscoverInstancesCommand)
      .resolvesOnce({
        Instances: [
          {
            InstanceId: 'contact-1',
            NamespaceName: NAMESPACE,
            ServiceName: 'contact-service',
            HealthStatus: 'HEALTHY',
            Attributes: { AWS_INSTANCE_IPV4: '127.0.0.1', AWS_INSTANCE_PORT: String(env.mesh.contact.port) },
          },
        ],
      })
      .rejects(Object.assign(new Error('down'), { name: 'ServiceUnavailable', $metadata: { httpStatusCode: 503 } }));
    dns.mode = 'servfail';
    // No static address: the third source has nothing to offer either. The TTL is one second.
    const grant = await coldStart('grant', base, cloudMapEnv(undefined, { SERVICE_MESH_DISCOVERY_TTL_SECONDS: '1' }));

    const fresh = await grantOne(grant, 'stale-0');
    await sleep(1_200); // the result expires; every source now fails
    const staleServed = await until(() => logs.logs().some((l) => l['message'] === 'serving stale discovery result'), 5_000);
    // A connection lost now makes gRPC re-resolve: only the stale result can answer.
    env.mesh.contact.setFault({ kind: 'drop' });
    env.mesh.contact.setFault({ kind: 'none' });
    const afterDrop = await grantOne(grant, 'stale-1');

    expect(fresh).toEqual({ response: { batchItemFailures: [] }, granted: true });
    expect(staleServed).toBe(true);
    expect(afterDrop).toEqual({ response: { batchItemFailures: [] }, granted: true });
    const report = logs.logs().find((l) => l['message'] === 'serving stale discovery result');
    expect(report).toMatchObject({ level: 'WARN', meshService: 'contact-service', servedFrom: 'cloudmap', addresses: 1 });
    expect((report?.['failures'] as { source: string; code: string }[]).map((f) => [f.source, f.code])).toEqual([
      ['cloudmap', 'DISCOVERY_SOURCE_FAILED'],
      ['dns', 'DISCOVERY_SOURCE_FAILED'],
      ['static', 'DISCOVERY_NOT_CONFIGURED'],
    ]);
    expect(cloudMap.commandCalls(DiscoverInstancesCommand).length).toBeGreaterThanOrEqual(2);
  });
});

auditTheWholeFile(logs, 10);
