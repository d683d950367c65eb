import type { LambdaClient } from '@aws-sdk/client-lambda';
import { ConfigError } from '../../shared/errors.js';
import type { MeshTelemetry } from '../../shared/observability/mesh-telemetry.js';
import type { BreakerStateName } from '../../shared/resilience/circuit-breaker.js';

/** What mesh-health does to the consumer's event source mapping on one run. */
export type ConsumptionAction = 'pause' | 'resume' | 'keep';

/** One service as the consumption decision sees it. */
export interface ServiceVerdict {
  service: string;
  /** The fleet's breaker as the `mesh-state` table holds it; undefined when it could not be read. */
  fleetBreaker: BreakerStateName | undefined;
  /** The service answered `SERVING` to its `grpc.health.v1` check on this run. */
  up: boolean;
}

/**
 * Decides the mapping's state from the services the consumer calls:
 * - any fleet breaker open (or probing): pause, so no record spends a receive on an outage;
 * - every fleet breaker closed (or unknown) and every service up: resume;
 * - otherwise keep what is there: a closed breaker with a service that failed one health check
 *   is the breaker's call to make, from real traffic.
 * Decided afresh on every run from the current state, never from a remembered one, so a run that
 * crashed between the two halves of an outage cannot leave the mapping disabled.
 */
export function consumptionAction(services: readonly ServiceVerdict[]): ConsumptionAction {
  if (services.some((s) => s.fleetBreaker === 'open' || s.fleetBreaker === 'half-open')) return 'pause';
  if (services.every((s) => s.up)) return 'resume';
  return 'keep';
}

/** The mapping's state after one run, for the report, the gauge and the logs. */
export interface ConsumptionReport {
  mappingId: string;
  action: ConsumptionAction;
  /** The mapping's `State` as Lambda reported it before any change. */
  stateBefore: string | undefined;
  /** True when the mapping was changed on this run. */
  changed: boolean;
  /** True when the mapping is (being) disabled after this run. */
  paused: boolean;
  error?: { name: string; message: string };
}

/** States in which a mapping polls, or is about to. */
const RUNNING = new Set(['Enabled', 'Enabling', 'Creating', 'Updating']);

/**
 * Brings the consumer's event source mapping to `action`: reads it (GetEventSourceMapping) and
 * updates it (UpdateEventSourceMapping `Enabled`) only when it is not already there. Lambda
 * errors are returned in the report, never thrown: mesh-health must still report the mesh, and
 * its next run (a minute later) tries again.
 */
export async function applyConsumption(
  action: ConsumptionAction,
  deps: { mappingId: string; lambda: Pick<LambdaClient, 'send'> },
): Promise<ConsumptionReport> {
  const { mappingId, lambda } = deps;
  let stateBefore: string | undefined;
  try {
    // Imported on use: mesh-health's cold start need not load the Lambda SDK before it has a verdict.
    const { GetEventSourceMappingCommand, UpdateEventSourceMappingCommand } = await import('@aws-sdk/client-lambda');
    const mapping = await lambda.send(new GetEventSourceMappingCommand({ UUID: mappingId }));
    stateBefore = mapping.State;
    const running = stateBefore !== undefined && RUNNING.has(stateBefore);
    const enable = action === 'resume' && !running ? true : action === 'pause' && running ? false : undefined;
    if (enable === undefined) return { mappingId, action, stateBefore, changed: false, paused: !running };
    await lambda.send(new UpdateEventSourceMappingCommand({ UUID: mappingId, Enabled: enable }));
    return { mappingId, action, stateBefore, changed: true, paused: !enable };
  } catch (error) {
    const running = stateBefore !== undefined && RUNNING.has(stateBefore);
    return {
      mappingId,
      action,
      stateBefore,
      changed: false,
      paused: stateBefore !== undefined && !running,
      error: { name: error instanceof Error ? error.name : typeof error, message: error instanceof Error ? error.message : String(error) },
    };
  }
}

/** The consumer whose mapping mesh-health controls, as named in the gauge's `consumer` dimension. */
export const CONSUMER_NAME = 'grant-entitlements';

/**
 * The id of grant-entitlements' event source mapping from `GRANT_EVENT_SOURCE_MAPPING_ID`;
 * undefined when unset or empty (mesh-health then only reports).
 *
 * @throws {ConfigError} `CONFIG_INVALID` naming the key and the value when it is not a mapping UUID.
 */
export function mappingIdFromEnv(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const raw = env['GRANT_EVENT_SOURCE_MAPPING_ID'];
  const value = raw?.trim();
  if (!value) return undefined;
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value)) {
    throw new ConfigError('CONFIG_INVALID', `GRANT_EVENT_SOURCE_MAPPING_ID must be an event source mapping UUID, got ${JSON.stringify(raw)}`);
  }
  return value;
}

/**
 * A Lambda client whose SDK is imported and which is created on first use; it honours
 * `AWS_ENDPOINT_URL_LAMBDA` and the SDK's other settings.
 */
export function lazyLambdaClient(): Pick<LambdaClient, 'send'> {
  let client: Promise<LambdaClient> | undefined;
  const clientOnce = () => {
    client ??= import('@aws-sdk/client-lambda').then(
      ({ LambdaClient }) => new LambdaClient({}),
      (error: unknown) => {
        client = undefined; // a failed load is not cached: the next run tries again
        throw error;
      },
    );
    return client;
  };
  return {
    send: (async (command: never) => (await clientOnce()).send(command)) as LambdaClient['send'],
  };
}

/**
 * One run's control of the consumer's queue: decides from `services` (the ones the consumer
 * calls), applies it to the mapping, records `queue_consumption_paused` and logs a change (WARN on
 * pause, INFO on resume) or a Lambda error (ERROR). Never throws.
 */
export async function controlConsumption(
  services: readonly ServiceVerdict[],
  deps: { mappingId: string; lambda: Pick<LambdaClient, 'send'>; telemetry: MeshTelemetry },
): Promise<ConsumptionReport> {
  const { logger, metrics } = deps.telemetry;
  const verdicts = services.map(({ service, fleetBreaker, up }) => ({ service, fleetBreaker, up }));
  const consumption = await applyConsumption(consumptionAction(verdicts), deps);
  metrics.recordQueueConsumptionPaused(CONSUMER_NAME, consumption.paused);
  const fields = { consumer: CONSUMER_NAME, ...consumption };
  if (consumption.error) logger.error('cannot control queue consumption: the next run tries again', fields);
  else if (consumption.changed && consumption.paused) logger.warn("queue consumption paused: the fleet's breaker is open", fields);
  else if (consumption.changed) logger.info('queue consumption resumed: the service is healthy and its breaker closed', fields);
  return consumption;
}
