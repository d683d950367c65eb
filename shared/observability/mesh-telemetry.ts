import type { ConstructorOptions } from '@aws-lambda-powertools/logger/types';
import { compileCacheMiss } from './compile-cache-check.js';
import { createMeshLogger, type MeshLogger } from './mesh-logger.js';
import { MeshMetrics, type MeshMetricsOptions } from './mesh-metrics.js';

/** The container's logger and metrics, shared by every instrument and middleware. */
export interface MeshTelemetry {
  readonly logger: MeshLogger;
  readonly metrics: MeshMetrics;
}

export interface MeshTelemetryOptions {
  /** Logger options (service name, level); Powertools reads the environment for what is left out. */
  logger?: ConstructorOptions;
  /** Metrics options; the Powertools warnings go to the telemetry's logger unless given. */
  metrics?: MeshMetricsOptions;
}

/** Creates a logger and metrics pair; most code wants the container's one, {@link meshTelemetry}. */
export function createMeshTelemetry(options: MeshTelemetryOptions = {}): MeshTelemetry {
  const logger = createMeshLogger(options.logger);
  const metrics = new MeshMetrics({ logger, ...options.metrics });
  return { logger, metrics };
}

let container: MeshTelemetry | undefined;

/**
 * Returns the container's telemetry, creating it on first use.
 *
 * Created lazily rather than at import so that tests and the local invoke CLI can set the
 * environment (log level, namespace) first; kept in module scope so every warm invocation reuses
 * the same aggregate, which the middleware flushes once per invocation.
 */
export function meshTelemetry(): MeshTelemetry {
  if (container === undefined) {
    container = createMeshTelemetry();
    const miss = compileCacheMiss();
    if (miss) container.logger.warn('compile cache not used: it was built for another Node version or architecture; the bundle compiles at every cold start', { ...miss });
  }
  return container;
}
