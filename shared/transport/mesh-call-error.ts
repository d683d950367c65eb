import { status, type ServiceError } from '@grpc/grpc-js';
import { MeshCallError, MeshError, type MeshCallErrorCode } from '../errors.js';
import type { ServerRejection } from './client-credentials.js';

/** gRPC statuses with a mesh meaning; every other status is `MESH_INTERNAL`. */
const CODES: ReadonlyMap<number, MeshCallErrorCode> = new Map([
  [status.NOT_FOUND, 'MESH_NOT_FOUND'],
  [status.INVALID_ARGUMENT, 'MESH_INVALID_ARGUMENT'],
  [status.PERMISSION_DENIED, 'MESH_PERMISSION_DENIED'],
  [status.UNAUTHENTICATED, 'MESH_UNAUTHENTICATED'],
  [status.UNAVAILABLE, 'MESH_UNAVAILABLE'],
  [status.DEADLINE_EXCEEDED, 'MESH_DEADLINE_EXCEEDED'],
  [status.RESOURCE_EXHAUSTED, 'MESH_RESOURCE_EXHAUSTED'],
  [status.CANCELLED, 'MESH_CANCELLED'],
]);

/** True for a grpc-js call error: an Error with a numeric status `code`. */
export function isGrpcError(error: unknown): error is ServiceError {
  return error instanceof Error && typeof (error as { code?: unknown }).code === 'number' && 'details' in error;
}

/** Refusals of the server's identity, by the raw grpc error of the attempt they failed. */
const rejections = new WeakMap<Error, ServerRejection>();

/**
 * Notes that `error` (a raw `UNAVAILABLE`) happened because we refused the server's identity.
 * The error itself is left untouched, so executors still classify it by its gRPC code.
 */
export function noteServerRejection(error: Error, rejection: ServerRejection): void {
  rejections.set(error, rejection);
}

/** The refusal behind a raw grpc error, if {@link noteServerRejection} recorded one. */
export function serverRejectionOf(error: unknown): ServerRejection | undefined {
  return error instanceof Error ? rejections.get(error) : undefined;
}

/**
 * Maps whatever a call's executor rejected with to a {@link MeshCallError}: a raw gRPC error by its
 * status (an `UNAVAILABLE` caused by refusing the server's identity becomes
 * `MESH_SERVER_NOT_AUTHORIZED`), keeping `grpcCode` and the error as `cause`. A `MeshCallError`
 * (e.g. an open breaker) passes through, given the method if it lacks one; anything else is
 * `MESH_INTERNAL`.
 */
export function toMeshCallError(error: unknown, call: { service: string; method: string }): MeshCallError {
  if (error instanceof MeshCallError) {
    // Raised below the client (a closed channel) without knowing the method: name it now.
    if (error.method !== '') return error;
    return new MeshCallError(error.code, error.message, { ...call, ...(error.grpcCode === undefined ? {} : { grpcCode: error.grpcCode }) }, { cause: error });
  }
  const where = `${call.service}/${call.method}`;
  if (isGrpcError(error)) {
    const rejection = serverRejectionOf(error);
    if (rejection) {
      const peer = rejection.peerId === undefined ? 'the server' : `server ${rejection.peerId}`;
      return new MeshCallError(
        'MESH_SERVER_NOT_AUTHORIZED',
        `${where} refused ${peer}: ${rejection.reason} (${rejection.code})`,
        { ...call, grpcCode: error.code },
        { cause: error },
      );
    }
    const code = CODES.get(error.code) ?? 'MESH_INTERNAL';
    return new MeshCallError(code, `${where} failed with ${status[error.code] ?? error.code}: ${error.details}`, { ...call, grpcCode: error.code }, {
      cause: error,
    });
  }
  const message = error instanceof Error ? error.message : String(error);
  const detail = error instanceof MeshError ? ` (${error.code})` : '';
  return new MeshCallError('MESH_INTERNAL', `${where} failed: ${message}${detail}`, call, { cause: error });
}
