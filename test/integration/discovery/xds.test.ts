/**
 * SERVICE_MESH_DISCOVERY_SCHEME=xds against a local ADS control plane (test/local/xds-control-plane.ts):
 * the runtime's channels resolve `xds-fallback:///contact-service` through grpc-js-xds, and still
 * present our SVID and authorise the server by SPIFFE ID over real loopback mTLS.
 *
 * grpc-js-xds reads its bootstrap once per process, so every test here talks to the one control
 * plane started first; there is no static address, so only xDS can make a call succeed.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Channel, ChannelCredentials, Metadata, Server, type ServerUnaryCall, type sendUnaryData } from '@grpc/grpc-js';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { XdsBootstrapError } from '../../../shared/discovery/xds-bootstrap.js';
import { registerXdsPlugin } from '../../../shared/discovery/xds-plugin.js';
import { MeshCallError } from '../../../shared/errors.js';
import { svidMaterialFromParts } from '../../../shared/identity/svid-material.js';
import { MeshRuntime } from '../../../shared/middleware/mesh-runtime.js';
import { createMeshTelemetry } from '../../../shared/observability/mesh-telemetry.js';
import {
  HealthCheckResponse_ServingStatus,
  HealthClient,
  HealthService,
  type HealthCheckRequest,
  type HealthCheckResponse,
} from '../../../shared/proto/index.js';
import { meshServerCredentials } from '../../../shared/transport/server-credentials.js';
import { captureOutput, type CapturedOutput } from '../../fixtures/capture-output.js';
import { CONTACT_ID, lambdaContext, startMeshEnvironment, type MeshEnvironment } from '../../fixtures/mesh-environment.js';
import { startContactService, type ContactServiceHandle } from '../../local/contact-service.js';
import { DevCa } from '../../local/dev-ca.js';
import { XDS_TYPE_URLS, XdsControlPlane } from '../../local/xds-control-plane.js';

let mesh: MeshEnvironment;
let second: ContactServiceHandle;
let plane: XdsControlPlane;
let probe: { server: Server; address: string; authorities: string[] };
let otherCaDir: string;
const runtimes: MeshRuntime[] = [];
let output: CapturedOutput;
const savedBootstrap = process.env.GRPC_XDS_BOOTSTRAP_CONFIG;

/** A Health server with the contact-service's SVID that records the `:authority` of each call. */
async function startAuthorityProbe(): Promise<typeof probe> {
  const svid = await mesh.ca.mintSvid(CONTACT_ID);
  const material = svidMaterialFromParts({ ...svid, bundlePem: mesh.ca.bundlePem, federatedBundles: {} }, 'the authority probe');
  const authorities: string[] = [];
  const server = new Server();
  server.addService(HealthService, {
    check(call: ServerUnaryCall<HealthCheckRequest, HealthCheckResponse>, callback: sendUnaryData<HealthCheckResponse>) {
      authorities.push(call.getHost());
      callback(null, { status: HealthCheckResponse_ServingStatus.SERVING });
    },
    watch() {},
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', meshServerCredentials(material), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  return { server, address: `127.0.0.1:${port}`, authorities };
}

beforeAll(async () => {
  mesh = await startMeshEnvironment();
  second = await startContactService({ svid: await mesh.ca.mintSvid(CONTACT_ID), bundlePem: mesh.ca.bundlePem });
  probe = await startAuthorityProbe();
  // xDS-provided security for the probe's cluster: a CA that did not sign the probe's SVID and a
  // SAN it does not have. Applied, it would refuse the probe; our credentials must ignore it.
  otherCaDir = await mkdtemp(join(tmpdir(), 'xds-other-ca-'));
  await writeFile(join(otherCaDir, 'ca.pem'), (await DevCa.create('elsewhere.example')).bundlePem);
  plane = await XdsControlPlane.start({
    services: { 'contact-service': [mesh.contact.address], 'tls-probe': [probe.address] },
    upstreamTls: { 'tls-probe': { caCertificateProvider: 'other-ca', subjectAltName: 'spiffe://elsewhere.example/nobody' } },
  });
  const certificateProviders = {
    'other-ca': { plugin_name: 'file_watcher', config: { ca_certificate_file: join(otherCaDir, 'ca.pem'), refresh_interval: '600s' } },
  };
  process.env.GRPC_XDS_BOOTSTRAP_CONFIG = JSON.stringify(plane.bootstrap({ certificate_providers: certificateProviders }));
});

beforeEach(() => {
  output = captureOutput();
});

afterEach(() => {
  output.restore();
  for (const runtime of runtimes.splice(0)) runtime.close();
});

afterAll(async () => {
  process.env.GRPC_XDS_BOOTSTRAP_CONFIG = savedBootstrap;
  if (savedBootstrap === undefined) delete process.env.GRPC_XDS_BOOTSTRAP_CONFIG;
  probe?.server.forceShutdown();
  await Promise.all([plane?.close(), second?.close(), mesh?.close(), otherCaDir && rm(otherCaDir, { recursive: true, force: true })]);
});

/** A container configured for xDS discovery, with no static address to fall back to. */
function xdsRuntime(overrides: Record<string, string> = {}): MeshRuntime {
  const config = mesh.config({ SERVICE_MESH_DISCOVERY_SCHEME: 'xds', EXTERNAL_SERVICES_CONTACT_SERVICE_ADDRESS: '', ...overrides });
  const runtime = new MeshRuntime({ config, telemetry: createMeshTelemetry() });
  runtimes.push(runtime);
  return runtime;
}

describe('a MeshRuntime with SERVICE_MESH_DISCOVERY_SCHEME=xds', () => {
  it('calls the contact-service at the endpoint xDS names, over mTLS as our SPIFFE identity', async () => {
    const runtime = xdsRuntime();
    const before = mesh.contact.callCount;

    const user = await runtime.contactClient(lambdaContext()).getUserInfo('user-1');

    expect(user.familyId).toBe('family-1');
    expect(mesh.contact.callCount - before).toBe(1);
    expect(mesh.contact.seenClientIds).toEqual(['spiffe://jia.app/payment-functions']);
    // Listener → RouteConfiguration (RDS) → Cluster → ClusterLoadAssignment, each ACKed.
    const subscribed = new Set(plane.requests.map((r) => r.typeUrl));
    expect([...subscribed]).toEqual(expect.arrayContaining(Object.values(XDS_TYPE_URLS)));
    expect(plane.requests.filter((r) => r.responseNonce !== '' && r.errorDetail === undefined).length).toBeGreaterThanOrEqual(4);
    expect(plane.nacks).toEqual([]);
    // Under the service's policy and telemetry, as with any other discovery.
    runtime.telemetry.metrics.flush();
    expect(output.emf()).toContainEqual(expect.objectContaining({ service: 'contact-service', method: 'GetUserInfo', code: 'OK', grpc_client_requests_total: 1 }));
  });

  it('moves new calls to the endpoints of an EDS update', async () => {
    const runtime = xdsRuntime();
    const client = () => runtime.contactClient(lambdaContext());
    const [firstAtStart, secondAtStart] = [mesh.contact.callCount, second.callCount];
    for (let i = 0; i < 3; i++) await client().getUserInfo('user-1');
    expect([mesh.contact.callCount - firstAtStart, second.callCount - secondAtStart]).toEqual([3, 0]);

    plane.setEndpoints([second.address], 'contact-service');
    // The update reaches the channel asynchronously: call until one lands on the new endpoint.
    let switched = false;
    for (let attempt = 0; attempt < 50 && !switched; attempt++) {
      const secondSeen = second.callCount;
      await client().getUserInfo('user-2');
      switched = second.callCount > secondSeen;
      if (!switched) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const [firstMid, secondMid] = [mesh.contact.callCount, second.callCount];
    for (let i = 0; i < 5; i++) await client().getUserInfo('user-3');

    expect(switched).toBe(true);
    expect(second.callCount - secondMid).toBe(5);
    expect(mesh.contact.callCount).toBe(firstMid);
    expect(second.seenClientIds).toEqual(['spiffe://jia.app/payment-functions']);
    plane.setEndpoints([mesh.contact.address], 'contact-service');
  });

  it('refuses a server whose SPIFFE ID is not the configured one, whatever xDS says', async () => {
    const runtime = xdsRuntime({ EXTERNAL_SERVICES_CONTACT_SERVICE_SPIFFE_ID: 'spiffe://jia.app/someone-else' });
    const before = mesh.contact.callCount;

    const error = await runtime
      .contactClient(lambdaContext())
      .getUserInfo('user-1')
      .then(
        () => undefined,
        (e: unknown) => e,
      );

    expect(error).toBeInstanceOf(MeshCallError);
    expect((error as MeshCallError).code).toBe('MESH_SERVER_NOT_AUTHORIZED');
    expect((error as MeshCallError).message).toContain('spiffe://jia.app/contact-service');
    expect(mesh.contact.callCount).toBe(before);
  });

  it('fails at construction with a typed error naming both bootstrap variables when neither is set', () => {
    const bootstrap = process.env.GRPC_XDS_BOOTSTRAP_CONFIG;
    delete process.env.GRPC_XDS_BOOTSTRAP_CONFIG;
    try {
      let error: unknown;
      try {
        xdsRuntime();
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(XdsBootstrapError);
      expect((error as XdsBootstrapError).code).toBe('CONFIG_INVALID');
      expect((error as Error).message).toMatch(/GRPC_XDS_BOOTSTRAP .*GRPC_XDS_BOOTSTRAP_CONFIG/);
    } finally {
      process.env.GRPC_XDS_BOOTSTRAP_CONFIG = bootstrap;
    }
  });
});

describe('grpc-js-xds with ordinary TLS channel credentials', () => {
  it('uses the service name as TLS server name and :authority, runs our checkServerIdentity, and ignores xDS-provided security', async () => {
    registerXdsPlugin('tls-probe');
    const hostnames: string[] = [];
    const svid = await mesh.ca.mintSvid('spiffe://jia.app/payment-functions');
    const credentials = ChannelCredentials.createSsl(Buffer.from(mesh.ca.bundlePem), Buffer.from(svid.privateKeyPem), Buffer.from(svid.certChainPem), {
      checkServerIdentity: (hostname, cert) => {
        hostnames.push(hostname);
        return cert.subjectaltname === `URI:${CONTACT_ID}` ? undefined : new Error(`unexpected server ${cert.subjectaltname}`);
      },
    });
    // What MeshChannel sets, on grpc-js-xds's own `xds:` target.
    const options = { 'grpc.default_authority': 'tls-probe', 'grpc.ssl_target_name_override': 'tls-probe', 'grpc.use_local_subchannel_pool': 1 };
    const channel = new Channel('xds:///tls-probe', credentials, options);
    const client = new HealthClient('xds:///tls-probe', credentials, { channelOverride: channel });
    try {
      const answer = await new Promise<HealthCheckResponse>((resolve, reject) =>
        client.check({ service: '' }, new Metadata(), { deadline: Date.now() + 10_000 }, (error, response) => (error ? reject(error) : resolve(response))),
      );

      expect(answer.status).toBe(HealthCheckResponse_ServingStatus.SERVING);
      expect(hostnames).toEqual(['tls-probe']);
      expect(probe.authorities).toEqual(['tls-probe']);
      // The control plane's UpstreamTlsContext was accepted (no NACK) and still not applied.
      expect(plane.requests.some((r) => r.typeUrl === XDS_TYPE_URLS.cluster && r.resourceNames.includes('tls-probe-cluster'))).toBe(true);
      expect(plane.nacks).toEqual([]);
    } finally {
      client.close();
      channel.close();
    }
  });
});
