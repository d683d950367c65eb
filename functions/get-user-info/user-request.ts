import type { APIGatewayProxyEvent, APIGatewayProxyEventV2, APIGatewayProxyResult } from 'aws-lambda';
import { MeshCallError, MeshError } from '../../shared/errors.js';

/** `{"userId": "user-1"}`: the direct-invoke request. */
export interface DirectRequest {
  userId: string;
}

export type UserRequest =
  | { kind: 'direct'; userId: string }
  | { kind: 'http'; userId: string | undefined };

export type UserRequestErrorCode = 'USER_REQUEST_INVALID';
export class UserRequestError extends MeshError<UserRequestErrorCode> {}

/**
 * Tells a direct invoke (`{"userId"}`) from an API Gateway `GET /users/{userId}` (REST v1 or HTTP
 * API v2) and extracts the user id.
 *
 * @throws {UserRequestError} `USER_REQUEST_INVALID` for a direct invoke without a string `userId`.
 */
export function userRequestOf(event: unknown): UserRequest {
  const e = (event ?? {}) as Partial<APIGatewayProxyEvent & APIGatewayProxyEventV2> & { userId?: unknown };
  if (e.requestContext !== undefined && (e.pathParameters !== undefined || e.routeKey !== undefined || e.httpMethod !== undefined)) {
    const userId = e.pathParameters?.['userId'];
    return { kind: 'http', userId: userId ? decodeURIComponent(userId) : undefined };
  }
  if (typeof e.userId !== 'string' || e.userId.trim() === '') {
    throw new UserRequestError('USER_REQUEST_INVALID', `expected {"userId": "<id>"}, got userId ${JSON.stringify(e.userId ?? null)}`);
  }
  return { kind: 'direct', userId: e.userId };
}

/** Mesh failures a client should retry later: the service is down, slow, or its breaker is open. */
const UNAVAILABLE_CODES = new Set(['MESH_UNAVAILABLE', 'MESH_BREAKER_OPEN', 'MESH_DEADLINE_EXCEEDED', 'MESH_NO_TIME_LEFT', 'MESH_BULKHEAD_FULL', 'MESH_RESOURCE_EXHAUSTED']);

/**
 * The HTTP answer for a failed lookup: 404 for an unknown user, 503 with `Retry-After` when the
 * contact-service is unavailable or its breaker is open, 500 otherwise. Bodies carry the code.
 */
export function httpErrorOf(error: unknown, retryAfterSeconds: number): APIGatewayProxyResult {
  const code = error instanceof MeshError ? error.code : 'INTERNAL';
  const message = error instanceof MeshError ? error.message : 'internal error';
  const body = (status: number, headers: Record<string, string> = {}): APIGatewayProxyResult => ({
    statusCode: status,
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ error: { code, message } }),
  });
  if (error instanceof MeshCallError && error.code === 'MESH_NOT_FOUND') return body(404);
  if (error instanceof MeshCallError && UNAVAILABLE_CODES.has(error.code)) {
    return body(503, { 'retry-after': String(Math.max(1, Math.ceil(retryAfterSeconds))) });
  }
  if (error instanceof UserRequestError) return body(400);
  return body(500);
}
