import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { loadMeshConfig } from '../../shared/config/load-mesh-config.js';
import { secondsToExpiry } from '../../shared/identity/svid-material.js';
import { meshMiddleware, type MeshContext } from '../../shared/middleware/mesh-middleware.js';
import { MeshRuntime } from '../../shared/middleware/mesh-runtime.js';
import { observabilityMiddleware } from '../../shared/middleware/observability-middleware.js';
import { meshTelemetry } from '../../shared/observability/mesh-telemetry.js';
import { checkMeshHealth, type MeshHealthReport } from './check-mesh-health.js';

// Validated at init: a missing or bad setting fails the cold start with a message naming the key.
const config = loadMeshConfig();
const telemetry = meshTelemetry();
let runtime: MeshRuntime | undefined;
const runtimeOf = (): MeshRuntime => (runtime ??= new MeshRuntime({ config, telemetry }));

async function meshHealthHandler(_event: unknown, context: Context & MeshContext): Promise<MeshHealthReport> {
  const mesh = runtimeOf();
  const material = await mesh.currentSvid();
  const report = await checkMeshHealth({
    services: Object.keys(config.services),
    discovery: mesh.discovery,
    check: (service) => context.mesh.health(service).check(),
    breakerState: (service) => mesh.service(service).policy.state,
    identity: { spiffeId: material.svid.id.toString(), secondsToExpiry: secondsToExpiry(material) },
  });
  for (const service of report.services) {
    telemetry.metrics.recordServiceUp(service.service, service.up);
    telemetry.metrics.recordBreakerState(service.service, service.breaker);
    if (!service.up) telemetry.logger.warn('mesh service down', { meshService: service.service, error: service.error });
  }
  return report;
}

export const handler = middy(meshHealthHandler)
  .use(observabilityMiddleware({ telemetry }))
  .use(meshMiddleware({ runtime: runtimeOf }));
