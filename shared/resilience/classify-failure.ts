// The status enum alone: grpc-js's index is CommonJS and would bring all of grpc-js into every bundle
// importing this module, payment-webhook's too, which uses it for metrics and never calls gRPC.
import { Status as status } from '@grpc/grpc-js/build/src/constants.js';
import { isTaskCancelledError } from 'cockatiel';
import { MeshCallError, type MeshCallErrorCode } from '../errors.js';

/**
 * Returns the gRPC status code an error carries, or undefined when it carries none.
 *
 * A grpc-js `ServiceError` has a numeric `code`; a `MeshCallError` keeps it as `grpcCode`. Node's
 * own socket and TLS errors have string codes (`ECONNRESET`, `ERR_TLS_…`) and so carry none.
 */
export function grpcCodeOf(error: unknown): number | undefined {
  if (error instanceof MeshCallError) return error.grpcCode;
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'number' && Number.isInteger(code) && code >= 0 && code <= 16 ? code : undefined;
}

/** Statuses that mean the service (or the path to it) failed, not that it answered "no". */
const TRANSPORT_CODES: ReadonlySet<number> = new Set([
  status.UNAVAILABLE,
  status.DEADLINE_EXCEEDED,
  status.RESOURCE_EXHAUSTED,
]);

/**
 * UNKNOWN and INTERNAL are what grpc-js reports for broken streams and failed handshakes as well
 * as for server bugs; only the text tells them apart, so we look for connection vocabulary.
 */
const CONNECTION_TEXT = /connect|socket|tls|ssl|handshake|certificate|econn|epipe|rst_stream|goaway/i;

/** Mesh codes a transport layer may throw without a status: the call never got an answer. */
const TRANSPORT_MESH_CODES: ReadonlySet<MeshCallErrorCode> = new Set<MeshCallErrorCode>([
  'MESH_UNAVAILABLE',
  'MESH_DEADLINE_EXCEEDED',
  'MESH_RESOURCE_EXHAUSTED',
  'MESH_SERVER_NOT_AUTHORIZED',
]);

/**
 * Classifies a failed call as a transport failure (the service could not be reached or did not
 * answer in time) or an application outcome (the service answered, even if with an error).
 *
 * - gRPC `UNAVAILABLE`, `DEADLINE_EXCEEDED`, `RESOURCE_EXHAUSTED` → transport.
 * - gRPC `UNKNOWN`/`INTERNAL` whose details mention connection, socket, TLS, SSL, handshake,
 *   certificate, ECONN…, EPIPE, RST_STREAM or GOAWAY → transport; otherwise application.
 * - every other gRPC status (`NOT_FOUND`, `INVALID_ARGUMENT`, `PERMISSION_DENIED`, `CANCELLED`, …)
 *   → application: the service was reachable and replied.
 * - an error with no gRPC status at all (a raw socket or TLS error, a failed SPIFFE ID check) →
 *   transport. Decided this way because without a status nothing proves the service answered;
 *   a bug in our own code lands here too, and failing fast on it costs nothing.
 */
export function classifyFailure(error: unknown): 'transport' | 'application' {
  const code = grpcCodeOf(error);
  if (code === undefined) {
    if (error instanceof MeshCallError) return TRANSPORT_MESH_CODES.has(error.code) ? 'transport' : 'application';
    return 'transport';
  }
  if (TRANSPORT_CODES.has(code)) return 'transport';
  if (code === status.UNKNOWN || code === status.INTERNAL) {
    return CONNECTION_TEXT.test(describe(error)) ? 'transport' : 'application';
  }
  return 'application';
}

/** What one finished call means for a circuit breaker. */
export type BreakerOutcome = 'success' | 'failure' | 'ignore';

/** Policy rejections: the call never reached the service, so they say nothing about its health. */
const NOT_ATTEMPTED_CODES: ReadonlySet<MeshCallErrorCode> = new Set<MeshCallErrorCode>([
  'MESH_BREAKER_OPEN',
  'MESH_BULKHEAD_FULL',
  'MESH_NO_TIME_LEFT',
  'MESH_CANCELLED',
]);

/**
 * Maps a call's error to its breaker outcome: transport failures count as failures, application
 * outcomes as successes, and calls the caller cancelled (or a policy never sent) are ignored.
 *
 * Cancellation is ignored rather than counted either way: a caller giving up says nothing about
 * the service, and counting it as a success would hide an outage from the breaker.
 */
export function breakerOutcome(error: unknown): BreakerOutcome {
  if (error instanceof MeshCallError && NOT_ATTEMPTED_CODES.has(error.code)) return 'ignore';
  if (grpcCodeOf(error) === status.CANCELLED || isTaskCancelledError(error)) return 'ignore';
  if (error instanceof Error && error.name === 'AbortError') return 'ignore';
  return classifyFailure(error) === 'transport' ? 'failure' : 'success';
}

function describe(error: unknown): string {
  if (typeof error !== 'object' || error === null) return String(error);
  const { details, message } = error as { details?: unknown; message?: unknown };
  return `${typeof details === 'string' ? details : ''} ${typeof message === 'string' ? message : ''}`;
}
