/**
 * What `npm run invoke -- get-user-info --as <spiffe id>` sends: an API Gateway HTTP API request
 * for `GET /users/{userId}` carrying `Authorization: Bearer <JWT-SVID>` freshly minted for that
 * caller by the local JWT authority, with get-user-info's JWT-SVID settings defaulted to trust it.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { FUNCTIONS_SPIFFE_ID } from './local-identities.js';
import { ensureLocalJwtAuthority, LOCAL_ALLOWED_CALLERS } from './local-jwt-authority.js';

const isSet = (value: string | undefined) => value !== undefined && value.trim() !== '';

/**
 * Sets the `JWT_SVID_*` variables the user left unset (audience: the functions' SPIFFE ID;
 * callers: the mesh's usual allow-list; bundle: the local authority's file, unless a bundle URL
 * is given) and returns the event with a token minted for `caller`. `given` may be `{"userId"}`
 * or an API Gateway event (the header is added to it); default user-1.
 */
export async function jwtSvidRequest(options: {
  caller: string;
  given: unknown;
  env: NodeJS.ProcessEnv;
  localDir: string;
  log(line: string): void;
}): Promise<unknown> {
  const { env, log } = options;
  const added: string[] = [];
  const setDefault = (name: string, value: string) => {
    if (isSet(env[name])) return;
    env[name] = value;
    added.push(name);
  };
  const { authority, bundlePath, created } = await ensureLocalJwtAuthority(join(options.localDir, 'pki', 'jwt'));
  setDefault('JWT_SVID_AUDIENCE', env.SERVICE_MESH_SPIFFE_ID || FUNCTIONS_SPIFFE_ID);
  setDefault('JWT_SVID_ALLOWED_IDS', LOCAL_ALLOWED_CALLERS.join(','));
  if (!isSet(env.JWT_SVID_BUNDLE_URL)) setDefault('JWT_SVID_BUNDLE_FILE', bundlePath);
  log(`jwt-svid: ${created ? 'created' : 'reusing'} the dev JWT authority in ${bundlePath.replace(/\/[^/]+$/, '')}; minted a JWT-SVID for ${options.caller} (aud ${env.JWT_SVID_AUDIENCE})`);
  if (added.length > 0) log(`jwt-svid: set for this run: ${added.join(', ')}`);
  const token = await authority.mint({ sub: options.caller, aud: env.JWT_SVID_AUDIENCE! });
  return withBearer(options.given, token);
}

function withBearer(given: unknown, token: string): unknown {
  const event = given as Partial<APIGatewayProxyEventV2> | undefined;
  if (event?.requestContext !== undefined) return { ...event, headers: { ...event.headers, authorization: `Bearer ${token}` } };
  const userId = typeof (given as { userId?: unknown } | undefined)?.userId === 'string' ? (given as { userId: string }).userId : 'user-1';
  return userInfoHttpRequest(userId, token);
}

/** API Gateway's HTTP API (payload 2.0) event for `GET /users/{userId}` with a Bearer token. */
export function userInfoHttpRequest(userId: string, token: string, now = new Date()): APIGatewayProxyEventV2 {
  const path = `/users/${encodeURIComponent(userId)}`;
  return {
    version: '2.0',
    routeKey: 'GET /users/{userId}',
    rawPath: path,
    rawQueryString: '',
    headers: { accept: 'application/json', authorization: `Bearer ${token}`, host: 'localhost', 'user-agent': 'payment-functions-invoke' },
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: 'localhost',
      domainPrefix: 'localhost',
      http: { method: 'GET', path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'payment-functions-invoke' },
      requestId: randomUUID(),
      routeKey: 'GET /users/{userId}',
      stage: '$default',
      time: now.toISOString(),
      timeEpoch: now.getTime(),
    },
    pathParameters: { userId },
    isBase64Encoded: false,
  };
}
