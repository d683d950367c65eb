import type { MiddlewareObj, Request } from '@middy/core';
import type { Context } from 'aws-lambda';
import { correlationIdOf } from '../observability/correlation-id.js';
import { meshTelemetry, type MeshTelemetry } from '../observability/mesh-telemetry.js';

export interface ObservabilityMiddlewareOptions {
  /** The container's logger and metrics; the module-scope {@link meshTelemetry} when unset. */
  telemetry: MeshTelemetry | undefined;
}

const defaults: ObservabilityMiddlewareOptions = {
  telemetry: undefined,
};

/**
 * Powertools' key for "flush metrics" in `request.internal`. A middleware that answers early
 * (middy then skips every `after`), such as Powertools idempotency, runs the functions stored
 * under these keys through `cleanupMiddlewares`; registering there keeps metrics from being lost
 * on a cache hit. Spelled out because `@aws-lambda-powertools/commons` is not a direct dependency.
 */
const POWERTOOLS_METRICS_CLEANUP_KEY = 'powertools-for-aws.metrics';

/**
 * Makes every log line of the invocation carry the Lambda context and the correlation ID of the
 * triggering event (see {@link correlationIdOf}), and writes the mesh metrics aggregated during
 * the invocation once the handler is done, whether it returned or threw.
 *
 * The flush is synchronous, so nothing is left pending when the handler returns. Use it first in
 * the chain (`.use(observabilityMiddleware())` before the other middlewares), so its `before`
 * runs first and its `after`/`onError` last.
 */
export const observabilityMiddleware = (opts: Partial<ObservabilityMiddlewareOptions> = {}): MiddlewareObj<unknown, unknown, Error, Context> => {
  const options = { ...defaults, ...opts };
  const telemetry = (): MeshTelemetry => options.telemetry ?? meshTelemetry();

  const observabilityMiddlewareBefore = (request: Request<unknown, unknown, Error, Context>): void => {
    const { logger } = telemetry();
    (request.internal as Record<string, unknown>)[POWERTOOLS_METRICS_CLEANUP_KEY] = endInvocation;
    // Warm invocations re-roll Powertools' debug sampling, as its own middleware does.
    logger.refreshSampleRateCalculation();
    logger.addContext(request.context);
    logger.setCorrelationId(correlationIdOf(request.event, request.context));
  };

  // Runs after the handler, on error, or from an early answer's cleanup: flushing twice is harmless
  // (the second flush finds nothing), and the correlation ID must not leak into the next invocation.
  function endInvocation(): void {
    const { logger, metrics } = telemetry();
    metrics.flush();
    logger.resetKeys();
  }

  const observabilityMiddlewareAfter = (): void => {
    endInvocation();
  };

  const observabilityMiddlewareOnError = (): void => {
    // Returning nothing lets middy rethrow the handler's error once every onError has run.
    endInvocation();
  };

  return {
    name: 'observability',
    before: observabilityMiddlewareBefore,
    after: observabilityMiddlewareAfter,
    onError: observabilityMiddlewareOnError,
  };
};
