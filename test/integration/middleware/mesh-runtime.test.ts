/**
 * The whole mesh layer against the reference contact-service over real loopback mTLS: identity
 * from spiffe-helper files, discovery through the `mesh:` resolver, the per-service policy, and
 * telemetry, wired by MeshRuntime and handed to a middy handler by meshMiddleware.
 */
import { status } from '@grpc/grpc-js';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MeshCallError } from '../../../shared/errors.js';
import { meshMiddleware, type MeshContext } from '../../../shared/middleware/mesh-middleware.js';
import { MockDiscovery } from '../../../shared/discovery/mock-discovery.js';
import { IdentitySource } from '../../../shared/identity/identity-source.js';
import { MeshRuntime } from '../../../shared/middleware/mesh-runtime.js';
import type { MeshStateStore } from '../../../shared/resilience/shared-breaker/mesh-state-store.js';
import { createMeshTelemetry } from '../../../shared/observability/mesh-telemetry.js';
import { captureOutput, valuesOf, type CapturedOutput } from '../../fixtures/capture-output.js';
import { auditLogLines } from '../../fixtures/log-audit.js';
import { lambdaContext, startMeshEnvironment, type MeshEnvironment } from '../../fixtures/mesh-environment.js';
import { failureOf } from '../../fixtures/failure-of.js';
import { startSecretsExtensionEndpoint } from '../../fixtures/secrets-extension-endpoint.js';
import { spireSecretBinary } from '../../local/dev-ca.js';

let mesh: MeshEnvironment;
let output: CapturedOutput;
const allLines: string[] = [];
const runtimes: MeshRuntime[] = [];

beforeAll(async () => {
  mesh = await startMeshEnvironment();
});
afterEach(() => {
  output?.restore();
  allLines.push(...(output?.lines ?? []));
  mesh.contact.setFault({ kind: 'none' });
  for (const runtime of runtimes.splice(0)) runtime.close();
});
afterAll(async () => {
  await mesh.close();
});

/** A fresh container: its own breaker, channel and telemetry, with output captured. */
function newRuntime(overrides: Record<string, string> = {}): MeshRuntime {
  output = captureOutput();
  const runtime = new MeshRuntime({ config: mesh.config(overrides), telemetry: createMeshTelemetry() });
  runtimes.push(runtime);
  return runtime;
}


const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** An SVID source whose first fetch waits for `releaseSvid()`, then loads the mesh's SVID files. */
function heldSvid(): { identity: IdentitySource; releaseSvid: () => void } {
  const files = new MeshRuntime({ config: mesh.config(), telemetry: createMeshTelemetry() });
  runtimes.push(files);
  let releaseSvid!: () => void;
  const svidHeld = new Promise<void>((resolve) => (releaseSvid = resolve));
  const identity = new IdentitySource(async () => {
    await svidHeld;
    return files.identity.current();
  }, 'held files');
  return { identity, releaseSvid };
}

describe('a handler wired with meshMiddleware', () => {
  it('calls the contact-service over mTLS as its SPIFFE identity', async () => {
    const runtime = newRuntime();
    const handler = middy(async (event: { userId: string }, context: Context & MeshContext) => {
      const user = await context.mesh.contact.getUserInfo(event.userId);
      const members = await context.mesh.contact.getFamilyMembers(user.familyId);
      return { me: context.spiffe.id.toString(), user, members: members.map((m) => m.id) };
    }).use(meshMiddleware({ runtime }));

    const result = await handler({ userId: 'user-1' }, lambdaContext() as unknown as Context & MeshContext);

    expect(result.me).toBe('spiffe://jia.app/payment-functions');
    expect(result.user).toEqual({ id: 'user-1', name: 'Ada Lovelace', email: 'user-1@example.test', familyId: 'family-1' });
    expect(result.members).toEqual(['user-1', 'user-2', 'user-3']);
    expect(mesh.contact.seenClientIds).toContain('spiffe://jia.app/payment-functions');
  });

  it('calls as the SVID SPIRE wrote, read through the Parameters and Secrets extension', async () => {
    const svid = await mesh.ca.mintSvid('spiffe://jia.app/payment-functions');
    const extension = await startSecretsExtensionEndpoint({ token: 'sandbox-session-token' });
    const saved = process.env.AWS_SESSION_TOKEN;
    try {
      process.env.AWS_SESSION_TOKEN = 'sandbox-session-token';
      extension.put('spire-svid/payment-functions', { SecretBinary: spireSecretBinary(svid, mesh.ca.bundlePem) });
      const runtime = newRuntime({
        SVID_SECRET_ID: 'spire-svid/payment-functions',
        SECRETS_MANAGER_ACCESS: 'extension',
        PARAMETERS_SECRETS_EXTENSION_HTTP_PORT: String(extension.port),
      });

      const user = await runtime.contactClient(lambdaContext()).getUserInfo('user-1');

      expect(user.id).toBe('user-1');
      expect(runtime.identity.peek()?.svid.serialNumber).toBe(svid.serialNumber);
      expect(runtime.identity.description).toBe('secret spire-svid/payment-functions through the secrets extension');
      expect(extension.requests).toHaveLength(1);
    } finally {
      await extension.close();
      if (saved === undefined) delete process.env.AWS_SESSION_TOKEN;
      else process.env.AWS_SESSION_TOKEN = saved;
    }
  });

  it('answers the health check of a configured service', async () => {
    const runtime = newRuntime();

    expect(await runtime.healthClient('contact-service', lambdaContext()).check()).toBe('SERVING');
  });
});

describe('the per-service policy against a faulty contact-service', () => {
  it('does not retry NOT_FOUND and maps it to MESH_NOT_FOUND', async () => {
    const runtime = newRuntime();
    const before = mesh.contact.callCount;

    const error = await failureOf(runtime.contactClient(lambdaContext()).getUserInfo('nobody'), MeshCallError);

    expect(error.code).toBe('MESH_NOT_FOUND');
    expect(mesh.contact.callCount - before).toBe(1);
    expect(runtime.service('contact-service').policy.state).toBe('closed');
  });

  it('retries a transient UNAVAILABLE and succeeds', async () => {
    const runtime = newRuntime();
    mesh.contact.setFault({ kind: 'status', code: status.UNAVAILABLE, times: 1 });
    const before = mesh.contact.callCount;

    const user = await runtime.contactClient(lambdaContext()).getUserInfo('user-2');

    expect(user.familyId).toBe('family-1');
    expect(mesh.contact.callCount - before).toBe(2);
  });

  it('opens after 5 consecutive failures, rejects without a network attempt, probes at most 3 when half-open, and closes after 2 successes', async () => {
    const runtime = newRuntime({ CIRCUIT_BREAKER_TIMEOUT_SECONDS: '0.4' });
    const { policy } = runtime.service('contact-service');
    const client = () => runtime.contactClient(lambdaContext());
    mesh.contact.setFault({ kind: 'status', code: status.UNAVAILABLE });
    const before = mesh.contact.callCount;

    // 3 attempts, then 2 more: the 5th failure opens the breaker and stops the retries.
    expect((await failureOf(client().getUserInfo('user-1'), MeshCallError)).code).toBe('MESH_UNAVAILABLE');
    expect((await failureOf(client().getUserInfo('user-1'), MeshCallError)).code).toBe('MESH_UNAVAILABLE');
    const attemptsToOpen = mesh.contact.callCount - before;
    const rejectedAt = performance.now();
    const rejected = await failureOf(client().getUserInfo('user-1'), MeshCallError);
    const rejectionMs = performance.now() - rejectedAt;

    expect(attemptsToOpen).toBe(5);
    expect(policy.state).toBe('open');
    expect(rejected.code).toBe('MESH_BREAKER_OPEN');
    expect(mesh.contact.callCount - before).toBe(5);
    expect(rejectionMs).toBeLessThan(50); // generous: the benchmark measures the real figure

    await sleep(450);
    mesh.contact.setFault({ kind: 'delay', ms: 200 });
    const probes = await Promise.allSettled(Array.from({ length: 5 }, () => client().getUserInfo('user-1')));

    const admitted = probes.filter((p) => p.status === 'fulfilled').length;
    const failedFast = probes.filter((p) => p.status === 'rejected' && (p.reason as MeshCallError).code === 'MESH_BREAKER_OPEN');
    expect(admitted).toBe(3);
    expect(failedFast).toHaveLength(2);
    expect(mesh.contact.callCount - before).toBe(8);
    expect(policy.state).toBe('closed');
  });

  it('reopens when a half-open probe fails', async () => {
    const runtime = newRuntime({ CIRCUIT_BREAKER_TIMEOUT_SECONDS: '0.3', CIRCUIT_BREAKER_FAILURE_THRESHOLD: '2' });
    const { policy } = runtime.service('contact-service');
    mesh.contact.setFault({ kind: 'status', code: status.UNAVAILABLE });
    await failureOf(runtime.contactClient(lambdaContext()).getUserInfo('user-1'), MeshCallError);
    expect(policy.state).toBe('open');

    await sleep(350);
    const before = mesh.contact.callCount;
    const probe = await failureOf(runtime.contactClient(lambdaContext()).getUserInfo('user-1'), MeshCallError);

    expect(probe.code).toBe('MESH_UNAVAILABLE');
    expect(mesh.contact.callCount - before).toBe(1); // the probe, not retried into an open breaker
    expect(policy.state).toBe('open');
  });

  it('keeps one service\'s open breaker from affecting another service', async () => {
    const runtime = newRuntime({
      CIRCUIT_BREAKER_FAILURE_THRESHOLD: '1',
      EXTERNAL_SERVICES_BILLING_NAME: 'billing',
      EXTERNAL_SERVICES_BILLING_ADDRESS: '127.0.0.1:9',
      EXTERNAL_SERVICES_BILLING_SPIFFE_ID: 'spiffe://jia.app/billing',
    });

    await failureOf(runtime.healthClient('billing', lambdaContext()).check(), MeshCallError);

    expect(runtime.service('billing').policy.state).toBe('open');
    expect(runtime.service('contact-service').policy.state).toBe('closed');
    expect(await runtime.healthClient('contact-service', lambdaContext()).check()).toBe('SERVING');
  });

  it('bounds the deadline by the Lambda\'s remaining time minus the safety margin', async () => {
    const runtime = newRuntime();
    mesh.contact.setFault({ kind: 'delay', ms: 3_000 });
    const before = mesh.contact.callCount;
    const startedAt = performance.now();

    const error = await failureOf(runtime.contactClient(lambdaContext(900)).getUserInfo('user-1'), MeshCallError);

    const elapsed = performance.now() - startedAt;
    expect(error.code).toBe('MESH_DEADLINE_EXCEEDED');
    expect(elapsed).toBeGreaterThanOrEqual(350);
    expect(elapsed).toBeLessThan(900);
    expect(mesh.contact.callCount - before).toBe(1);
  });

  it('does not start a call that cannot finish in time', async () => {
    const runtime = newRuntime();
    const before = mesh.contact.callCount;

    const error = await failureOf(runtime.contactClient(lambdaContext(520)).getUserInfo('user-1'), MeshCallError);

    expect(error.code).toBe('MESH_NO_TIME_LEFT');
    expect(mesh.contact.callCount).toBe(before);
  });
});

describe('MeshRuntime configuration', () => {
  it.each(['SERVICE_MESH_ENABLED', 'MTLS_ENABLED'])('refuses %s=false rather than calling the mesh in plaintext', (key) => {
    expect(() => new MeshRuntime({ config: mesh.config({ [key]: 'false' }), telemetry: createMeshTelemetry() })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringContaining(key) as string }) as unknown as Error,
    );
  });

  it('finds the contact-service by its variables whatever mesh name it is given', async () => {
    const runtime = newRuntime({ EXTERNAL_SERVICES_CONTACT_SERVICE_NAME: 'contacts-v2' });

    const user = await runtime.contactClient(lambdaContext()).getUserInfo('user-3');

    expect(user.id).toBe('user-3');
    expect(runtime.service('contacts-v2').policy.state).toBe('closed');
  });

  it('resolves the configured services while the first SVID loads, and only at the cold start', async () => {
    // Prepare: an SVID fetch held open, and a discovery that counts lookups.
    const { identity, releaseSvid } = heldSvid();
    const discovery = new MockDiscovery().register('contact-service', mesh.contact.address);
    const runtime = new MeshRuntime({ config: mesh.config(), telemetry: createMeshTelemetry(), identity, discovery });
    runtimes.push(runtime);

    // Act
    const first = runtime.currentSvid();
    const lookupsWhileLoading = discovery.lookupCount('contact-service');
    releaseSvid();
    await first;
    await runtime.currentSvid();

    // Assess
    expect(lookupsWhileLoading).toBe(1);
    expect(discovery.lookupCount('contact-service')).toBe(1);
  });

  it('reads the fleet\'s breaker while the first SVID loads, and the first call shares that read', async () => {
    // Prepare: an SVID fetch held open, and a mesh-state store that counts reads.
    const { identity, releaseSvid } = heldSvid();
    const reads: string[] = [];
    const store = {
      read: async (service: string) => {
        reads.push(service);
        return { state: 'closed' as const, version: 0 };
      },
    } as unknown as MeshStateStore;
    const runtime = new MeshRuntime({
      config: mesh.config({ MESH_STATE_TABLE: 'mesh-state' }),
      telemetry: createMeshTelemetry(),
      identity,
      meshStateStore: store,
    });
    runtimes.push(runtime);

    // Act
    const first = runtime.currentSvid();
    const readsWhileLoading = [...reads];
    releaseSvid();
    await first;
    const user = await runtime.contactClient(lambdaContext()).getUserInfo('user-1');

    // Assess
    expect(readsWhileLoading).toEqual(['contact-service']);
    expect(reads).toEqual(['contact-service']);
    expect(user.id).toBe('user-1');
    expect(runtime.service('contact-service').policy.state).toBe('closed');
  });

  it('names the configured services when asked for an unknown one', () => {
    const runtime = newRuntime();

    expect(() => runtime.service('billing')).toThrow(/mesh service "billing" is not configured \(configured: contact-service\)/);
  });
});

describe('telemetry of mesh calls', () => {
  it('emits valid EMF with the mesh\'s metric names, and logs the failed call (the successful one only at DEBUG)', async () => {
    const runtime = newRuntime();
    const client = runtime.contactClient(lambdaContext());
    await client.getUserInfo('user-1');
    await failureOf(client.getUserInfo('nobody'), MeshCallError);

    runtime.telemetry.metrics.flush();

    const docs = output.emf();
    const requests = docs.filter((d) => 'grpc_client_requests_total' in d);
    const byCode = Object.fromEntries(requests.map((d) => [d['code'] as string, valuesOf(d, 'grpc_client_requests_total')]));
    expect(requests[0]?._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([['service', 'method', 'code']]);
    expect(requests.every((d) => d['service'] === 'contact-service' && d['method'] === 'GetUserInfo')).toBe(true);
    expect(byCode).toEqual({ OK: [1], NOT_FOUND: [1] });
    expect(docs.some((d) => 'grpc_client_request_duration_seconds' in d)).toBe(true);
    expect(docs.some((d) => 'svid_expiry_seconds' in d)).toBe(true);
    const callLines = output.logs().filter((l) => l['meshService'] === 'contact-service' && l['method'] === 'GetUserInfo');
    expect(callLines.map((l) => [l['level'], l['code'], l['peer']])).toEqual([['INFO', 'NOT_FOUND', 'spiffe://jia.app/contact-service']]);
  });
});

describe('the logs of this whole suite', () => {
  it('hold no PEM block, private key, webhook secret or signature', () => {
    expect(allLines.length).toBeGreaterThan(10);
    expect(auditLogLines(allLines)).toEqual([]);
  });
});
