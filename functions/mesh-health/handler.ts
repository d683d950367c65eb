import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { meshSdkClients, preloadAwsSdk } from '../../shared/cold-start/aws-sdk-preload.js';
import { loadMeshConfig } from '../../shared/config/load-mesh-config.js';
import { secondsToExpiry } from '../../shared/identity/svid-material.js';
import { meshMiddleware, type MeshContext } from '../../shared/middleware/mesh-middleware.js';
import { MeshRuntime } from '../../shared/middleware/mesh-runtime.js';
import { observabilityMiddleware } from '../../shared/middleware/observability-middleware.js';
import { meshTelemetry } from '../../shared/observability/mesh-telemetry.js';
import { fleetStateOf } from '../../shared/resilience/shared-breaker/fleet-breaker-record.js';
import { summarizeError } from '../../shared/observability/error-summary.js';
import { checkMeshHealth, type MeshHealthReport } from './check-mesh-health.js';
import { controlConsumption, lazyLambdaClient, mappingIdFromEnv } from './queue-consumption.js';

// Validated at init: a missing or bad setting fails the cold start with a message naming the key.
const config = loadMeshConfig();
const mappingId = mappingIdFromEnv();
// The SDK clients every run needs (the mapping's state with a mapping to control), loaded within init.
await preloadAwsSdk([...meshSdkClients(config), ...(mappingId === undefined ? [] : (['client-lambda'] as const))]);
const lambda = lazyLambdaClient();
const telemetry = meshTelemetry();
let runtime: MeshRuntime | undefined;
const runtimeOf = (): MeshRuntime => (runtime ??= new MeshRuntime({ config, telemetry }));

async function meshHealthHandler(_event: unknown, context: Context & MeshContext): Promise<MeshHealthReport> {
  const mesh = runtimeOf();
  const material = await mesh.currentSvid();
  const report = await checkMeshHealth({
    services: Object.keys(config.services),
    discovery: mesh.discovery,
    // Through the service's (possibly shared) breaker: when the fleet's probe is due, this check
    // may be elected to probe, and NOT_SERVING must count against it.
    check: (service) => context.mesh.health(service).check({ requireServing: true }),
    breakerState: (service) => mesh.service(service).policy.state,
    ...(mesh.meshState === undefined ? {} : { fleetBreaker: (service: string) => fleetBreakerOf(mesh, service) }),
    identity: { spiffeId: material.svid.id.toString(), secondsToExpiry: secondsToExpiry(material) },
  });
  for (const service of report.services) {
    telemetry.metrics.recordServiceUp(service.service, service.up);
    telemetry.metrics.recordBreakerState(service.service, service.fleetBreaker ?? service.breaker);
    if (!service.up) telemetry.logger.warn('mesh service down', { meshService: service.service, error: service.error });
  }
  if (mappingId !== undefined) {
    // grant-entitlements calls the contact-service alone: its health decides the consumption.
    const consumed = report.services.filter((s) => mesh.config.services[s.service]?.key === 'CONTACT_SERVICE');
    report.consumption = await controlConsumption(consumed, { mappingId, lambda, telemetry });
  }
  return report;
}

/** The fleet's breaker of `service`, read consistently; a failed read is reported, not thrown. */
async function fleetBreakerOf(mesh: MeshRuntime, service: string) {
  try {
    return fleetStateOf(await mesh.meshState!.read(service, true), Date.now());
  } catch (error) {
    telemetry.metrics.recordBreakerStoreError(service);
    telemetry.logger.warn('breaker store unreachable: the fleet\'s breaker state is unknown', { meshService: service, error: summarizeError(error) });
    return undefined;
  }
}

export const handler = middy(meshHealthHandler)
  .use(observabilityMiddleware({ telemetry }))
  .use(meshMiddleware({ runtime: runtimeOf }));
