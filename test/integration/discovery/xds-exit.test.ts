/**
 * Nothing of grpc-js-xds keeps a process alive once its MeshRuntime is closed, whether the control
 * plane answered, is down, or never sent a resource asked for: a child process
 * (test/local/xds-control-plane-client.ts) makes one call through `SERVICE_MESH_DISCOVERY_SCHEME=xds`,
 * closes its runtime and must end on its own, its event loop drained.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTACT_ID, startMeshEnvironment, type MeshEnvironment } from '../../fixtures/mesh-environment.js';
import { startContactService, type ContactServiceHandle } from '../../local/contact-service.js';
import { XdsControlPlane } from '../../local/xds-control-plane.js';

const CHILD = fileURLToPath(new URL('../../local/xds-control-plane-client.ts', import.meta.url));
let mesh: MeshEnvironment;
let viaXds: ContactServiceHandle;
let answering: XdsControlPlane;
let down: XdsControlPlane;

beforeAll(async () => {
  mesh = await startMeshEnvironment();
  viaXds = await startContactService({ svid: await mesh.ca.mintSvid(CONTACT_ID), bundlePem: mesh.ca.bundlePem });
  const services = { 'contact-service': [viaXds.address] };
  [answering, down] = await Promise.all([XdsControlPlane.start({ services }), XdsControlPlane.start({ services })]);
  await down.stop(); // its port, now refusing connections
});

afterAll(async () => {
  await Promise.all([answering?.close(), down?.close(), viaXds?.close(), mesh?.close()]);
});

interface ChildRun {
  /** What each call answered, by service. */
  outcome: Record<string, string> | undefined;
  drainedAfterMs: number | undefined;
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Runs the child against `plane`; resolves when it has exited (killed after `killAfterMs`). */
function runChild(plane: XdsControlPlane, env: Record<string, string>, killAfterMs = 40_000): Promise<ChildRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
      env: {
        ...process.env,
        ...mesh.env,
        SERVICE_MESH_DISCOVERY_SCHEME: 'xds',
        GRPC_XDS_BOOTSTRAP_CONFIG: JSON.stringify(plane.bootstrap()),
        POWERTOOLS_LOG_LEVEL: 'SILENT',
        ...env,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const killer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    child.on('exit', (code, signal) => {
      clearTimeout(killer);
      const lines = stderr
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>);
      const outcome = lines.find((line) => 'outcome' in line)?.outcome as ChildRun['outcome'];
      const drained = lines.find((line) => 'drainedAfterMs' in line)?.drainedAfterMs as number | undefined;
      if (code !== 0) process.stderr.write(stderr);
      resolve({ outcome, drainedAfterMs: drained, code, signal });
    });
  });
}

// Concurrent, with room: each child spends seconds loading TypeScript and grpc-js-xds's protos,
// more on a loaded machine; a child that does not end is killed after 40 s.
describe.concurrent('a process whose MeshRuntime used xDS and was closed', { timeout: 45_000 }, () => {
  it('ends on its own, with an ADS stream open and a resource the control plane never sent', async () => {
    // The control plane answers for the contact-service (no static address: only xDS can serve
    // it) but knows nothing of ghost-service: that resource's 15 s does-not-exist timer is
    // pending, and its calls fall back to the static address after the budget (2 s).
    const run = await runChild(answering, {
      EXTERNAL_SERVICES_CONTACT_SERVICE_ADDRESS: '',
      EXTERNAL_SERVICES_GHOST_SERVICE_ADDRESS: mesh.contact.address,
      EXTERNAL_SERVICES_GHOST_SERVICE_SPIFFE_ID: CONTACT_ID,
    });

    expect(run.outcome).toEqual({ 'contact-service': 'user-1', 'ghost-service': 'SERVING' });
    expect(run).toMatchObject({ code: 0, signal: null });
    expect(run.drainedAfterMs).toBeLessThan(3_000);
  });

  it('ends on its own after falling back because the control plane is down', async () => {
    // Here grpc-js-xds's ADS stream waits for the control plane, holding the event loop until released.
    const run = await runChild(down, {});

    expect(run.outcome).toEqual({ 'contact-service': 'user-1' });
    expect(run).toMatchObject({ code: 0, signal: null });
    expect(run.drainedAfterMs).toBeLessThan(3_000);
  });
});
