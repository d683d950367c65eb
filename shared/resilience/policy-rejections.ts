import { isBulkheadRejectedError } from 'cockatiel';
import { MeshCallError } from '../errors.js';
import { CircuitOpenError } from './circuit-breaker.js';

/** The call a rejection is about; both names appear in every message. */
export interface CallSite {
  service: string;
  method: string;
}

/** Builds `MESH_NO_TIME_LEFT`: fewer than `minAttemptMs` remain before the deadline, nothing is sent. */
export function noTimeLeftError(where: CallSite, msLeft: number, minAttemptMs: number, cause?: unknown): MeshCallError {
  return new MeshCallError(
    'MESH_NO_TIME_LEFT',
    `a call needs at least ${minAttemptMs} ms before its deadline; ` +
      `${where.service} ${where.method} has ${Math.max(0, Math.floor(msLeft))} ms left`,
    where,
    cause === undefined ? undefined : { cause },
  );
}

/** Builds `MESH_CANCELLED`: the caller aborted before (another) attempt was sent. */
export function cancelledError(where: CallSite, reason: unknown): MeshCallError {
  return new MeshCallError(
    'MESH_CANCELLED',
    `the caller cancelled ${where.service} ${where.method} before it was sent`,
    where,
    { cause: reason },
  );
}

/**
 * Turns cockatiel's rejections (breaker, bulkhead) into the mesh's typed errors with the original
 * as `cause`; every other error, gRPC statuses included, is returned unchanged.
 */
export function toPolicyRejection(
  error: unknown,
  where: CallSite,
  bulkhead: { maxConcurrentCalls: number; maxQueued: number },
): unknown {
  if (error instanceof CircuitOpenError) {
    const detail =
      error.state === 'open'
        ? `open for another ${error.retryAfterMs} ms`
        : error.state === 'half-open'
          ? 'half-open with every probe slot taken'
          : 'ramping traffic up after closing (slow start)';
    return new MeshCallError(
      'MESH_BREAKER_OPEN',
      `circuit breaker for ${where.service} is ${detail}; ${where.method} was not sent`,
      where,
      { cause: error },
    );
  }
  if (isBulkheadRejectedError(error)) {
    return new MeshCallError(
      'MESH_BULKHEAD_FULL',
      `bulkhead for ${where.service} allows ${bulkhead.maxConcurrentCalls} calls in flight and ` +
        `${bulkhead.maxQueued} queued; ${where.method} was not sent`,
      where,
      { cause: error },
    );
  }
  return error;
}
