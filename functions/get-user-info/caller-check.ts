import type { APIGatewayProxyResult } from 'aws-lambda';
import type { JwtSvidAuthenticator } from '../../shared/authentication/jwt-svid-authenticator.js';
import { BearerTokenError, type HttpHeaders } from '../../shared/authentication/bearer-token.js';
import { SpiffeIdError } from '../../shared/errors.js';
import type { JwtSvid } from '../../shared/spiffe/jwt-svid.js';
import { JwtBundleError, JwtSvidError } from '../../shared/spiffe/jwt-svid-error.js';

/** What became of a JWT-SVID caller: the `result` dimension of `jwt_svid_requests_total`. */
export type CallerResult = 'allowed' | 'denied' | 'invalid' | 'unavailable';

export type CallerCheck =
  | { result: 'allowed'; svid: JwtSvid }
  | { result: Exclude<CallerResult, 'allowed'>; svid?: JwtSvid; code: string; reason: string; answer: APIGatewayProxyResult };

/** RFC 6750 §3: how a resource server tells a client its Bearer token was refused. */
export const INVALID_TOKEN_CHALLENGE = 'Bearer error="invalid_token"';

function answer(statusCode: number, code: string, message: string, headers: Record<string, string> = {}): APIGatewayProxyResult {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ error: { code, message } }),
  };
}

/**
 * Authenticates an API Gateway request by its JWT-SVID and authorises the caller: 401 with
 * `WWW-Authenticate: Bearer error="invalid_token"` for a missing, malformed or invalid token,
 * 403 for a valid token of a caller not on the allow-list, 503 with `Retry-After` when the bundle
 * to check it against cannot be obtained. Bodies carry the error's code and message, never the token.
 *
 * @throws whatever is not one of those (a defect), for the handler's 500.
 */
export async function checkCaller(request: HttpHeaders, authenticator: JwtSvidAuthenticator, deadline?: number): Promise<CallerCheck> {
  let svid: JwtSvid;
  try {
    svid = await authenticator.authenticate(request, deadline);
  } catch (error) {
    if (error instanceof BearerTokenError || error instanceof JwtSvidError) {
      return { result: 'invalid', code: error.code, reason: error.message, answer: answer(401, error.code, error.message, { 'www-authenticate': INVALID_TOKEN_CHALLENGE }) };
    }
    if (error instanceof JwtBundleError) {
      return { result: 'unavailable', code: error.code, reason: error.message, answer: answer(503, error.code, 'the JWT bundle to validate the token against is unavailable', { 'retry-after': '1' }) };
    }
    throw error;
  }
  try {
    authenticator.authorize(svid);
  } catch (error) {
    if (!(error instanceof SpiffeIdError)) throw error;
    return { result: 'denied', svid, code: error.code, reason: error.message, answer: answer(403, error.code, error.message) };
  }
  return { result: 'allowed', svid };
}
