/**
 * The benchmark's server process: everything the functions talk to, in a process of its own so
 * that the client side measured by the benchmark never shares an event loop with a server.
 *
 *   node --import tsx test/bench/contact-server.ts
 *
 * Starts a dev SPIFFE CA and, on 127.0.0.1:
 * - three reference contact-services over mTLS: `fast` (no added latency: the warm and cold
 *   figures), `slow` (+`BENCH_SLOW_LATENCY_MS`, default 5 ms per call: the fan-out and grant
 *   throughput figures) and `faulty` (switched to UNAVAILABLE to open a breaker), each knowing
 *   the fixtures' users and the grant-throughput families of 5 (`grant-families.ts`);
 * - dynalite with the entitlements table;
 * - Secrets Manager and Cloud Map stand-ins (AWS JSON 1.1) that count their calls: the secret
 *   holds the function's SVID in SPIRE's `SecretBinary` format, Cloud Map lists the `fast`
 *   contact-service;
 * - on a port of its own, the AWS Parameters and Secrets Lambda Extension's HTTP API
 *   (`test/fixtures/secrets-extension-endpoint.ts`) serving that same secret to the token
 *   `BENCH_SESSION_TOKEN`, counting its requests. It keeps no cache (`SECRETS_MANAGER_TTL` 0): each
 *   cold start is a new sandbox, whose extension has nothing cached yet. Its own call to Secrets
 *   Manager and its process start, which run beside the function's init on Lambda, are not modelled;
 * - a DNS server with the records Cloud Map writes for the `fast` contact-service in a DNS
 *   namespace (`mesh.local`): SRV `contact-service.mesh.local` → `1 1 <port>
 *   contact-1.contact-service.mesh.local`, and that target's A record;
 * - on the same port as the stand-ins, a latency-bound DynamoDB (`latency-store.ts`): `UpdateItem` on the
 *   entitlements table, parsed, checked, evaluated and applied as DynamoDB does, answered after
 *   `BENCH_STORE_LATENCY_MS` (default 5 ms).
 *
 * Writes the function's SVID as spiffe-helper files (the bare client reads the same PEMs), then
 * prints ONE line of JSON (`BenchServerInfo`) on stdout, and runs until its stdin closes
 * (the benchmark holds it open), then releases everything.
 *
 * The stand-in's port also answers the benchmark itself, so that any of its processes can ask:
 * `GET /bench/stats` (`BenchServerStats`) and `POST /bench/fault?service=<name>` with a
 * {@link ContactServiceFault} as the body.
 */
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEntitlementsTable } from '../../shared/entitlements/entitlements-table.js';
import { startSecretsExtensionEndpoint, type SecretsExtensionEndpoint } from '../fixtures/secrets-extension-endpoint.js';
import { startContactService, type ContactServiceFault, type ContactServiceHandle } from '../local/contact-service.js';
import { DevCa, spireSecretBinary, writeSpiffeHelperFiles } from '../local/dev-ca.js';
import { LocalDnsServer } from '../local/dns-server.js';
import { startDynalite } from '../local/dynalite.js';
import { USERS } from '../local/fixtures.js';
import { grantFamilyUsers } from './grant-families.js';
import { latencyStore } from './latency-store.js';
import {
  BENCH_SESSION_TOKEN,
  CLOUD_MAP_NAMESPACE,
  CONTACT_ID,
  ENTITLEMENTS_TABLE,
  FUNCTIONS_ID,
  SVID_SECRET_ID,
  type BenchServerInfo,
  type BenchServerStats,
  type ContactServiceName,
} from './bench-server.js';

/**
 * Secrets Manager's `GetSecretValue` and Cloud Map's `DiscoverInstances` as the AWS SDK speaks
 * them (JSON, target in `X-Amz-Target`), just enough for the function's two data-plane calls; the
 * latency-bound DynamoDB's `UpdateItem`; and the benchmark's own `/bench/*` requests.
 */
function awsStandIn(
  secretBinary: Uint8Array,
  services: Record<ContactServiceName, ContactServiceHandle>,
  storeLatencyMs: number,
  secretsExtension: SecretsExtensionEndpoint,
) {
  const counts = { secretsManagerCalls: 0, cloudMapCalls: 0 };
  const store = latencyStore({ tableName: ENTITLEMENTS_TABLE, latencyMs: storeLatencyMs });
  const answer = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
    res.end(JSON.stringify(body));
  };
  const stats = (): BenchServerStats => ({
    contactCalls: { fast: services.fast.callCount, slow: services.slow.callCount, faulty: services.faulty.callCount },
    ...counts,
    secretsExtensionCalls: secretsExtension.requests.length,
    latencyStoreWrites: store.writes,
  });
  function route(req: IncomingMessage, body: string, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://bench');
    if (url.pathname === '/bench/stats') return answer(res, 200, stats());
    if (url.pathname === '/bench/fault') {
      const service = url.searchParams.get('service') as ContactServiceName;
      services[service].setFault(JSON.parse(body) as ContactServiceFault);
      return answer(res, 200, { ok: true });
    }
    const target = String(req.headers['x-amz-target'] ?? '');
    if (target === 'secretsmanager.GetSecretValue') {
      counts.secretsManagerCalls++;
      return answer(res, 200, {
        ARN: `arn:aws:secretsmanager:us-east-1:000000000000:secret:${SVID_SECRET_ID}-AbCdEf`,
        Name: SVID_SECRET_ID,
        VersionId: 'v1',
        SecretBinary: Buffer.from(secretBinary).toString('base64'),
        VersionStages: ['AWSCURRENT'],
        CreatedDate: Date.now() / 1000,
      });
    }
    if (target === 'Route53AutoNaming_v20170314.DiscoverInstances') {
      counts.cloudMapCalls++;
      return answer(res, 200, {
        Instances: [
          {
            InstanceId: 'contact-1',
            NamespaceName: 'mesh.local',
            ServiceName: 'contact-service',
            HealthStatus: 'HEALTHY',
            Attributes: { AWS_INSTANCE_IPV4: '127.0.0.1', AWS_INSTANCE_PORT: String(services.fast.port) },
          },
        ],
        InstancesRevision: 1,
      });
    }
    if (target === 'DynamoDB_20120810.UpdateItem') return store.updateItem(body, res);
    answer(res, 400, { __type: 'UnknownOperationException', message: `unknown target ${target}` });
  }
  return createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => route(req, Buffer.concat(chunks).toString('utf8'), res));
  });
}

/**
 * A DNS server answering for the `fast` contact-service what Cloud Map answers in a DNS namespace
 * for a service with an SRV record (API reference, `DnsRecord`): `<service>.<namespace>` SRV with
 * priority and weight 1, the `AWS_INSTANCE_PORT`, and `<instance-id>.<service>.<namespace>` as the
 * target, which has an A record of the `AWS_INSTANCE_IPV4`. The instance is the one the Cloud Map
 * stand-in lists (`contact-1`, 127.0.0.1).
 */
async function cloudMapDnsRecords(port: number): Promise<LocalDnsServer> {
  const dns = await LocalDnsServer.start();
  const target = `contact-1.contact-service.${CLOUD_MAP_NAMESPACE}`;
  dns.setSrv(`contact-service.${CLOUD_MAP_NAMESPACE}`, [{ target, port, priority: 1, weight: 1 }]).setA(target, '127.0.0.1');
  return dns;
}

async function main(): Promise<void> {
  const slowLatencyMs = Number(process.env.BENCH_SLOW_LATENCY_MS ?? 5);
  const storeLatencyMs = Number(process.env.BENCH_STORE_LATENCY_MS ?? 5);
  const ca = await DevCa.create('jia.app');
  const [functionSvid, contactSvid] = await Promise.all([ca.mintSvid(FUNCTIONS_ID), ca.mintSvid(CONTACT_ID)]);
  const svidDir = await mkdtemp(join(tmpdir(), 'bench-svid-'));
  await writeSpiffeHelperFiles(svidDir, functionSvid, ca.bundlePem);

  const users = new Map([...USERS, ...grantFamilyUsers().map((u) => [u.id, u] as const)]);
  const start = (extraLatencyMs: number) => startContactService({ svid: contactSvid, bundlePem: ca.bundlePem, extraLatencyMs, users });
  const services: Record<ContactServiceName, ContactServiceHandle> = {
    fast: await start(0),
    slow: await start(slowLatencyMs),
    faulty: await start(0),
  };
  const dynamo = await startDynalite();
  await createEntitlementsTable(dynamo.client, ENTITLEMENTS_TABLE);
  const secretBinary = spireSecretBinary(functionSvid, ca.bundlePem);
  const secretsExtension = await startSecretsExtensionEndpoint({ token: BENCH_SESSION_TOKEN, ttlSeconds: 0 });
  secretsExtension.put(SVID_SECRET_ID, { SecretBinary: secretBinary });
  const aws = awsStandIn(secretBinary, services, storeLatencyMs, secretsExtension);
  aws.listen(0, '127.0.0.1');
  await once(aws, 'listening');
  const dns = await cloudMapDnsRecords(services.fast.port);

  const info: BenchServerInfo = {
    pid: process.pid,
    contact: { fast: services.fast.address, slow: services.slow.address, faulty: services.faulty.address },
    svidDir,
    dynamoEndpoint: dynamo.endpoint,
    awsEndpoint: `http://127.0.0.1:${(aws.address() as AddressInfo).port}`,
    secretsExtensionPort: secretsExtension.port,
    dnsServer: dns.address,
  };
  process.stdout.write(`${JSON.stringify(info)}\n`);

  // Held open by the benchmark: its end (the benchmark exited, however) is the signal to stop.
  process.stdin.resume();
  await once(process.stdin, 'end');

  aws.closeAllConnections();
  aws.close();
  await Promise.all([...Object.values(services).map((s) => s.close()), dynamo.close(), dns.close(), secretsExtension.close()]);
  await rm(svidDir, { recursive: true, force: true });
}

await main();
