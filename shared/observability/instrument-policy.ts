import { LogLevelThreshold, type Logger } from '@aws-lambda-powertools/logger';
import { MeshCallError, type MeshCallErrorCode } from '../errors.js';
import { classifyFailure } from '../resilience/classify-failure.js';
import type { BreakerStoreFailure } from '../resilience/service-breaker.js';
import type { AttemptEvent, BreakerStateChange, ServicePolicy } from '../resilience/service-policy.js';
import { callCodeOf } from './call-code.js';
import { summarizeError } from './error-summary.js';
import type { MeshMetrics } from './mesh-metrics.js';

/** The message of the one log line each mesh call attempt writes; stable, so queries can filter on it. */
export const MESH_CALL_MESSAGE = 'mesh call';

/** An attempt event, optionally carrying the peer's verified SPIFFE ID (the transport knows it). */
export type MeshCallEvent = AttemptEvent & { peer?: string };

/** Where an instrument writes. */
export interface MeshInstrumentTarget {
  logger: Logger;
  metrics: MeshMetrics;
}

export interface PolicyInstrumentOptions extends MeshInstrumentTarget {
  /** The peer SPIFFE ID to log when the event does not carry one, e.g. the service's configured ID. */
  peer?: (event: AttemptEvent) => string | undefined;
}

/**
 * Subscribes to a service policy's attempts and breaker transitions: each attempt is counted
 * (`grpc_client_requests_total`, `…_failed_total`, `…_duration_seconds`) and logged as one line
 * (`meshService`, `method`, `peer`, `code`, `durationMs`, `attempt`, `breakerState`); each
 * transition is recorded as `circuit_breaker_state` and logged at WARN; each failed read or write of
 * a shared breaker's store is counted (`breaker_store_errors_total`) and logged at WARN. Returns the
 * unsubscribe.
 *
 * Log keys say `meshService` because Powertools reserves `service` for the function's own name.
 * A failed attempt is logged at WARN when it is a transport failure (the service was not reached
 * or did not answer), at INFO when the service answered with an error (`NOT_FOUND` is an answer).
 * A successful attempt is logged at DEBUG: the metrics already count and time it, and a
 * Powertools line costs about as much CPU as the rest of the mesh layer's per-call work together
 * (`npm run bench`). `POWERTOOLS_LOGGER_SAMPLE_RATE` turns DEBUG on for a share of invocations.
 */
export function instrumentPolicy(
  policy: Pick<ServicePolicy, 'onAttempt' | 'onStateChange' | 'state'> & Partial<Pick<ServicePolicy, 'onStoreError'>>,
  options: PolicyInstrumentOptions,
): () => void {
  const { logger, metrics, peer } = options;
  const stopAttempts = policy.onAttempt(function recordMeshCall(event: MeshCallEvent) {
    const code = callCodeOf(event.error);
    metrics.recordCall(event.service, event.method, code, event.durationMs);
    // The success line is DEBUG: at the deployed INFO level, build nothing for it.
    if (event.outcome === 'ok' && logger.level > LogLevelThreshold.DEBUG) return;
    const fields = {
      meshService: event.service,
      method: event.method,
      peer: event.peer ?? peer?.(event),
      code,
      durationMs: event.durationMs,
      attempt: event.attempt,
      breakerState: policy.state,
    };
    if (event.outcome === 'ok') logger.debug(MESH_CALL_MESSAGE, fields);
    else if (classifyFailure(event.error) === 'transport') logger.warn(MESH_CALL_MESSAGE, { ...fields, error: summarizeError(event.error) });
    else logger.info(MESH_CALL_MESSAGE, { ...fields, error: summarizeError(event.error) });
  });
  const stopTransitions = policy.onStateChange(function recordBreakerTransition(change: BreakerStateChange) {
    metrics.recordBreakerState(change.service, change.to);
    logger.warn('circuit breaker state changed', { meshService: change.service, from: change.from, to: change.to });
  });
  // Never silent: a fleet breaker that lost its store runs on local evidence only.
  const stopStoreErrors = policy.onStoreError?.(function recordBreakerStoreError(failure: BreakerStoreFailure) {
    metrics.recordBreakerStoreError(failure.service);
    logger.warn('breaker store unreachable: the circuit breaker runs on this container\'s evidence alone', {
      meshService: failure.service,
      operation: failure.operation,
      error: summarizeError(failure.error),
    });
  });
  return function stopInstrumentingPolicy() {
    stopAttempts();
    stopTransitions();
    stopStoreErrors?.();
  };
}

/** The policy's own refusals: no attempt ran, so `onAttempt` never heard of them. */
const POLICY_REJECTIONS: ReadonlySet<MeshCallErrorCode> = new Set<MeshCallErrorCode>([
  'MESH_BREAKER_OPEN',
  'MESH_BULKHEAD_FULL',
  'MESH_NO_TIME_LEFT',
  'MESH_CANCELLED',
]);

/**
 * Counts and logs a call the policy refused to send (`BREAKER_OPEN`, `BULKHEAD_FULL`,
 * `NO_TIME_LEFT`, `CANCELLED`), which `onAttempt` never reports; returns false, recording nothing,
 * for any other error (an attempt's own error was already recorded by {@link instrumentPolicy}).
 * Whoever calls `policy.execute` passes its rejection here. No duration is recorded: a call that
 * was not sent must not pull the latency percentiles down.
 */
export function recordPolicyRejection(target: MeshInstrumentTarget, error: unknown): boolean {
  if (!(error instanceof MeshCallError) || !POLICY_REJECTIONS.has(error.code)) return false;
  const code = callCodeOf(error);
  target.metrics.recordCall(error.service, error.method, code);
  target.logger.warn(MESH_CALL_MESSAGE, { meshService: error.service, method: error.method, code, attempt: 0, error: summarizeError(error) });
  return true;
}
