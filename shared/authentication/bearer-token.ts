import { MeshError } from '../errors.js';

/** An HTTP request whose `Authorization` header does not carry one Bearer token. */
export type BearerTokenErrorCode = 'AUTH_NO_BEARER_TOKEN' | 'AUTH_MALFORMED_AUTHORIZATION';
export class BearerTokenError extends MeshError<BearerTokenErrorCode> {}

/** The request headers as API Gateway passes them: v2 lower-cases names, v1 keeps the client's. */
export interface HttpHeaders {
  headers?: Record<string, string | undefined> | null;
  multiValueHeaders?: Record<string, (string | undefined)[] | undefined> | null;
}

/**
 * The token of the request's `Authorization: Bearer <token>` header (RFC 6750 §2.1; the JWT-SVID
 * spec §5.2 names this header). Header name and scheme are case-insensitive (RFC 7230, 7235).
 *
 * @throws {BearerTokenError} `AUTH_NO_BEARER_TOKEN` when there is no Authorization header;
 *   `AUTH_MALFORMED_AUTHORIZATION` for another scheme, several headers, or not exactly one token.
 *   The header's value is never quoted.
 */
export function bearerTokenOf(request: HttpHeaders): string {
  const values: string[] = [];
  for (const [name, value] of Object.entries(request.headers ?? {})) {
    if (name.toLowerCase() === 'authorization' && value !== undefined) values.push(value);
  }
  for (const [name, list] of Object.entries(request.multiValueHeaders ?? {})) {
    if (name.toLowerCase() === 'authorization' && (list?.length ?? 0) > 1) {
      throw new BearerTokenError('AUTH_MALFORMED_AUTHORIZATION', `the request has ${list!.length} authorization headers, expected one`);
    }
  }
  const [value] = values;
  if (value === undefined) throw new BearerTokenError('AUTH_NO_BEARER_TOKEN', 'the request has no authorization header: expected "Bearer <JWT-SVID>"');
  if (values.length > 1) throw new BearerTokenError('AUTH_MALFORMED_AUTHORIZATION', `the request has ${values.length} authorization headers, expected one`);
  const match = /^\s*(\S+)(?:[ ]+(\S+))?\s*$/.exec(value);
  const scheme = match?.[1];
  if (scheme === undefined || scheme.toLowerCase() !== 'bearer') {
    throw new BearerTokenError('AUTH_MALFORMED_AUTHORIZATION', `the authorization header must use the Bearer scheme, got ${scheme === undefined ? 'none' : JSON.stringify(scheme.slice(0, 20))}`);
  }
  const token = match?.[2];
  if (token === undefined) throw new BearerTokenError('AUTH_MALFORMED_AUTHORIZATION', 'the authorization header must be "Bearer <token>" with exactly one token');
  return token;
}
