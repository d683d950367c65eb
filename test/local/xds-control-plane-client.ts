/**
 * A function-like process using xDS discovery: builds a MeshRuntime from its environment
 * (`SERVICE_MESH_DISCOVERY_SCHEME=xds`, `GRPC_XDS_BOOTSTRAP_CONFIG` naming a local control plane),
 * calls the contact-service once and checks the health of every other configured service, closes
 * the runtime and returns from its work without `process.exit`. It must then end on its own.
 * Driven by test/integration/discovery/xds-exit.test.ts.
 *
 * Writes two JSON lines to stderr (stdout carries the runtime's own logs): the answer right after
 * closing, and, when the event loop drains (`beforeExit`, which a forced exit skips), how long after
 * closing that was.
 */
import { loadMeshConfig } from '../../shared/config/load-mesh-config.js';
import { MeshRuntime } from '../../shared/middleware/mesh-runtime.js';
import { createMeshTelemetry } from '../../shared/observability/mesh-telemetry.js';
import { lambdaContext } from '../fixtures/mesh-environment.js';

const config = loadMeshConfig();
const runtime = new MeshRuntime({ config, telemetry: createMeshTelemetry() });
const failed = (error: unknown) => `failed: ${String((error as { code?: unknown }).code ?? error)}`;
// The contact-service, then a health check of every other configured service.
const outcome: Record<string, string> = {
  'contact-service': await runtime
    .contactClient(lambdaContext(10_000))
    .getUserInfo('user-1')
    .then((user) => user.id, failed),
};
for (const service of Object.keys(config.services).filter((name) => name !== 'contact-service')) {
  outcome[service] = await runtime.healthClient(service, lambdaContext(10_000)).check().then(String, failed);
}
runtime.close();
const closedAt = performance.now();
process.stderr.write(`${JSON.stringify({ outcome })}\n`);
process.once('beforeExit', () => {
  process.stderr.write(`${JSON.stringify({ drainedAfterMs: Math.round(performance.now() - closedAt) })}\n`);
});
