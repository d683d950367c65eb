// The status enum alone: grpc-js's index is CommonJS and would bring all of grpc-js into every bundle
// importing this module, payment-webhook's too, which uses it for metrics and never calls gRPC.
import { Status as status } from '@grpc/grpc-js/build/src/constants.js';
import { isTaskCancelledError } from 'cockatiel';
import { MeshCallError, MeshError } from '../errors.js';
import { grpcCodeOf } from '../resilience/classify-failure.js';

/** The code of a call that succeeded. */
export const OK_CODE = 'OK';

/**
 * Returns the `code` a call is counted and logged under: `OK` without an error, the gRPC status name
 * when the error carries one (`UNAVAILABLE`, `NOT_FOUND`), the policy's rejection without the
 * `MESH_` prefix (`BREAKER_OPEN`, `BULKHEAD_FULL`, `NO_TIME_LEFT`), another mesh error's own code,
 * `CANCELLED` for an aborted attempt, and `UNKNOWN` for anything else (a raw socket error).
 *
 * The set is closed on purpose: the code is a metric dimension, and every distinct value is a
 * separate CloudWatch metric, so free text (an errno, a message) never becomes one.
 */
export function callCodeOf(error?: unknown): string {
  if (error === undefined) return OK_CODE;
  const grpcCode = grpcCodeOf(error);
  if (grpcCode !== undefined) return status[grpcCode] ?? 'UNKNOWN';
  if (error instanceof MeshCallError) return error.code.replace(/^MESH_/, '');
  if (error instanceof MeshError) return error.code;
  if (isTaskCancelledError(error) || (error instanceof Error && error.name === 'AbortError')) return 'CANCELLED';
  return 'UNKNOWN';
}
