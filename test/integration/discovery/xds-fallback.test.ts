/**
 * An xDS control plane that is down or silent: the `xds-fallback:` channel falls back to the
 * discovery sources after `xds` (here the static address) within the call's deadline, or fails
 * with a message naming xDS when they have nothing either; and it moves to xDS once the control
 * plane answers. The static address is one contact-service instance, xDS names the other, so
 * where a call lands says which discovery served it. (This control plane sends its routes inline in
 * the Listener; xds.test.ts covers RDS.)
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { XDS_RESOLUTION_BUDGET_OPTION, clearXdsFallbackMemory } from '../../../shared/discovery/xds-fallback-resolver.js';
import { MeshCallError } from '../../../shared/errors.js';
import { MeshRuntime } from '../../../shared/middleware/mesh-runtime.js';
import { createMeshTelemetry } from '../../../shared/observability/mesh-telemetry.js';
import { captureOutput, type CapturedOutput } from '../../fixtures/capture-output.js';
import { CONTACT_ID, lambdaContext, startMeshEnvironment, type MeshEnvironment } from '../../fixtures/mesh-environment.js';
import { startContactService, type ContactServiceHandle } from '../../local/contact-service.js';
import { XdsControlPlane } from '../../local/xds-control-plane.js';

const BUDGET_MS = 300;
let mesh: MeshEnvironment;
let viaXds: ContactServiceHandle;
let plane: XdsControlPlane;
let output: CapturedOutput;
const runtimes: MeshRuntime[] = [];
const savedBootstrap = process.env.GRPC_XDS_BOOTSTRAP_CONFIG;

beforeAll(async () => {
  mesh = await startMeshEnvironment();
  viaXds = await startContactService({ svid: await mesh.ca.mintSvid(CONTACT_ID), bundlePem: mesh.ca.bundlePem });
  // Started once to fix its port in the bootstrap (read once per process), then down until a test
  // starts it. The xDS client and its cache are per process too: the tests without a control
  // plane come first, before it ever delivered resources that would still be served from cache.
  plane = await XdsControlPlane.start({ services: { 'contact-service': [viaXds.address] }, routes: 'inline' });
  await plane.stop();
  process.env.GRPC_XDS_BOOTSTRAP_CONFIG = JSON.stringify(plane.bootstrap());
});

beforeEach(() => {
  output = captureOutput();
});

afterEach(async () => {
  output.restore();
  for (const runtime of runtimes.splice(0)) runtime.close();
  await plane.stop();
  plane.setSilent(false);
  clearXdsFallbackMemory();
});

afterAll(async () => {
  process.env.GRPC_XDS_BOOTSTRAP_CONFIG = savedBootstrap;
  if (savedBootstrap === undefined) delete process.env.GRPC_XDS_BOOTSTRAP_CONFIG;
  await Promise.all([plane?.close(), viaXds?.close(), mesh?.close()]);
});

/** A container with xDS discovery; its static address (the fallback) is `mesh.contact`. */
function xdsRuntime(overrides: Record<string, string> = {}, budgetMs = BUDGET_MS): MeshRuntime {
  const config = mesh.config({ SERVICE_MESH_DISCOVERY_SCHEME: 'xds', ...overrides });
  const runtime = new MeshRuntime({ config, telemetry: createMeshTelemetry(), channel: { channelOptions: { [XDS_RESOLUTION_BUDGET_OPTION]: budgetMs } } });
  runtimes.push(runtime);
  return runtime;
}

/** Where each call landed: the static address's instance or xDS's. */
function landings() {
  const at = { static: mesh.contact.callCount, xds: viaXds.callCount };
  return () => ({ static: mesh.contact.callCount - at.static, xds: viaXds.callCount - at.xds });
}

describe('an xds-fallback channel whose control plane is down', () => {
  it('falls back to the static address at once, without waiting out the budget', async () => {
    const runtime = xdsRuntime({}, 4_000);
    const landed = landings();
    const startedAt = performance.now();

    const user = await runtime.contactClient(lambdaContext(5_000)).getUserInfo('user-1');

    expect(user.id).toBe('user-1');
    expect(landed()).toEqual({ static: 1, xds: 0 });
    // The refused connection is an xDS error: no need to wait for the budget. (The first xDS
    // watch of a process also loads grpc-js-xds's ADS protos, ~0.5 s.)
    expect(performance.now() - startedAt).toBeLessThan(3_000);
  });

  it('fails MESH_UNAVAILABLE within the deadline, naming xds and the fallback, when no other source has the service', async () => {
    const runtime = xdsRuntime({ EXTERNAL_SERVICES_CONTACT_SERVICE_ADDRESS: '' });
    const startedAt = performance.now();

    const error = await runtime
      .contactClient(lambdaContext(5_000))
      .getUserInfo('user-1')
      .then(
        () => undefined,
        (e: unknown) => e,
      );

    expect(error).toBeInstanceOf(MeshCallError);
    expect((error as MeshCallError).code).toBe('MESH_UNAVAILABLE');
    expect((error as MeshCallError).message).toContain('xds:///contact-service has no resolution');
    // The xDS client reports a failing control plane once per connection failure; a channel
    // started while it is already failing waits out the budget instead.
    expect((error as MeshCallError).message).toMatch(/\((xds failed: .*No connection established to xDS server|no xds resolution within 300 ms)\)/);
    expect((error as MeshCallError).message).toContain('static: service contact-service has no static address configured');
    expect(performance.now() - startedAt).toBeLessThan(4_500);
  });
});

describe('an xds-fallback channel whose control plane does not answer', () => {
  it('waits the resolution budget, then uses the static address', async () => {
    plane.setSilent(true);
    await plane.start();
    const runtime = xdsRuntime();
    const landed = landings();
    const startedAt = performance.now();

    await runtime.contactClient(lambdaContext(5_000)).getUserInfo('user-1');
    const elapsed = performance.now() - startedAt;

    expect(landed()).toEqual({ static: 1, xds: 0 });
    expect(elapsed).toBeGreaterThanOrEqual(BUDGET_MS - 5);
    expect(elapsed).toBeLessThan(4_000); // the deadline is 4.5 s
  });

  it('moves the same channel to xDS once the control plane answers', async () => {
    plane.setSilent(true);
    await plane.start();
    const runtime = xdsRuntime();
    const client = () => runtime.contactClient(lambdaContext(5_000));
    const landed = landings();
    await client().getUserInfo('user-1');
    expect(landed()).toEqual({ static: 1, xds: 0 });
    const { channel } = runtime.service('contact-service');
    const generation = channel.generation;

    plane.setSilent(false);
    let onXds = false;
    // The xDS client's channel may still be backing off its reconnection after the tests without
    // a control plane (grpc's backoff: 1 s, then x1.6 with jitter).
    for (let attempt = 0; attempt < 80 && !onXds; attempt++) {
      const before = viaXds.callCount;
      await client().getUserInfo('user-2');
      onXds = viaXds.callCount > before;
      if (!onXds) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const afterSwitch = landings();
    for (let i = 0; i < 3; i++) await client().getUserInfo('user-3');

    expect(onXds).toBe(true);
    expect(afterSwitch()).toEqual({ static: 0, xds: 3 });
    expect(channel.generation).toBe(generation);
  });
});
