import { readFileSync } from 'node:fs';
import type { APIGatewayProxyEventV2, APIGatewayProxyResult, Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureOutput, type CapturedOutput } from '../../fixtures/capture-output.js';
import { startFunctionEnvironment, type FunctionEnvironment } from '../../fixtures/function-environment.js';
import { lambdaContext } from '../../fixtures/mesh-environment.js';
import { apiGatewayV1Event } from '../../fixtures/stripe.js';
import type { DevJwtAuthority } from '../../local/dev-jwt-authority.js';
import { DevJwtAuthority as Authority } from '../../local/dev-jwt-authority.js';
import { startJwtBundleServer, type JwtBundleServer } from '../../local/jwt-bundle-server.js';

/**
 * End to end through the real get-user-info handler: JWT-SVIDs minted by the dev CA's JWT
 * authority, the trust domain's SPIFFE bundle served over HTTPS on loopback by an `https_spiffe`
 * endpoint (authenticated by its X.509-SVID against the bundle in the function's own SVID files),
 * the real contact-service over mTLS and dynalite behind it.
 */
const AUDIENCE = 'spiffe://jia.app/payment-functions';
const FAMILY_SERVICE = 'spiffe://jia.app/family-service';

let env: FunctionEnvironment;
let bundleEndpoint: JwtBundleServer;
let authority: DevJwtAuthority;
let rotated: DevJwtAuthority | undefined;
let handler: (event: unknown, context: Context) => Promise<unknown>;

beforeAll(async () => {
  env = await startFunctionEnvironment();
  authority = await env.mesh.ca.jwtAuthority();
  const spireServer = await env.mesh.ca.mintSvid('spiffe://jia.app/spire/server');
  bundleEndpoint = await startJwtBundleServer({
    ...spireServer,
    document: () => authority.spiffeBundle({ extraKeys: rotated ? [{ ...rotated.publicJwk, kid: rotated.keyId, use: 'jwt-svid' }] : [] }),
  });
  Object.assign(process.env, {
    JWT_SVID_AUDIENCE: AUDIENCE,
    JWT_SVID_ALLOWED_IDS: `${FAMILY_SERVICE},spiffe://jia.app/document-service`,
    JWT_SVID_BUNDLE_URL: bundleEndpoint.url,
    JWT_SVID_BUNDLE_ENDPOINT_SPIFFE_ID: 'spiffe://jia.app/spire/server',
  });
  ({ handler } = (await import('../../../functions/get-user-info/handler.js')) as unknown as { handler: typeof handler });
});
afterAll(async () => {
  await bundleEndpoint?.close();
  await env?.close();
});

/** API Gateway's HTTP API event for GET /users/{userId} (test/fixtures/events), with our headers instead of IAM's. */
function getUser(userId: string, headers: Record<string, string> = {}): APIGatewayProxyEventV2 {
  const sample = JSON.parse(readFileSync(new URL('../../fixtures/events/get-user-info.api-gateway.json', import.meta.url), 'utf8')) as APIGatewayProxyEventV2 & {
    requestContext: { authorizer?: unknown };
  };
  delete sample.requestContext.authorizer;
  return { ...sample, rawPath: `/users/${userId}`, pathParameters: { userId }, headers: { ...sample.headers, ...headers } };
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

async function invoke(event: unknown): Promise<{ result: APIGatewayProxyResult; output: CapturedOutput }> {
  const output = captureOutput();
  try {
    const result = (await handler(event, lambdaContext() as unknown as Context)) as APIGatewayProxyResult;
    return { result, output };
  } finally {
    output.restore();
  }
}

function counted(output: CapturedOutput) {
  return output
    .emf()
    .filter((doc) => 'jwt_svid_requests_total' in doc)
    .map((doc) => ({ spiffeId: doc.spiffe_id, result: doc.result, count: doc.jwt_svid_requests_total }));
}

describe('get-user-info with JWT-SVID callers', () => {
  it('answers an allowed mesh caller, logs and counts its SPIFFE ID, and never writes the token', async () => {
    const token = await authority.mint({ sub: FAMILY_SERVICE, aud: AUDIENCE });

    const { result, output } = await invoke(getUser('user-2', bearer(token)));

    expect(result.statusCode).toBe(200);
    expect(JSON.parse(result.body)).toMatchObject({ id: 'user-2', familyId: 'family-1' });
    expect(counted(output)).toEqual([{ spiffeId: FAMILY_SERVICE, result: 'allowed', count: 1 }]);
    expect(output.logs().find((line) => line.message === 'jwt-svid caller allowed')).toMatchObject({ callerSpiffeId: FAMILY_SERVICE });
    expect(output.lines.join('\n')).not.toContain(token.split('.')[2]!);
    expect(output.lines.join('\n')).not.toContain(token.split('.')[1]!);
    expect(bundleEndpoint.requests).toBe(1);
  });

  it('reuses the cached bundle on the next request', async () => {
    const before = bundleEndpoint.requests;

    const { result } = await invoke(getUser('user-1', bearer(await authority.mint({ sub: FAMILY_SERVICE, aud: AUDIENCE }))));

    expect(result.statusCode).toBe(200);
    expect(bundleEndpoint.requests).toBe(before);
  });

  it('answers a REST API (v1) request carrying Authorization in its own case', async () => {
    const token = await authority.mint({ sub: 'spiffe://jia.app/document-service', aud: AUDIENCE });
    const event = { ...apiGatewayV1Event({ body: null, headers: { Authorization: `Bearer ${token}` } }), httpMethod: 'GET', path: '/users/user-2', pathParameters: { userId: 'user-2' } };

    const { result } = await invoke(event);

    expect(result.statusCode).toBe(200);
  });

  it.each([
    ['no Authorization header', async () => ({}), 'AUTH_NO_BEARER_TOKEN'],
    ['another scheme', async () => ({ authorization: 'Basic dXNlcjpwYXNz' }), 'AUTH_MALFORMED_AUTHORIZATION'],
    ['an expired token', async () => bearer(await authority.mint({ sub: FAMILY_SERVICE, aud: AUDIENCE, issuedAt: Math.floor(Date.now() / 1000) - 3600 })), 'JWT_SVID_EXPIRED'],
    ['another audience', async () => bearer(await authority.mint({ sub: FAMILY_SERVICE, aud: 'spiffe://jia.app/reports' })), 'JWT_SVID_UNEXPECTED_AUDIENCE'],
    ['alg none', async () => bearer(`${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from(JSON.stringify({ sub: FAMILY_SERVICE, aud: [AUDIENCE], exp: 4102444800 })).toString('base64url')}.`), 'JWT_SVID_UNSUPPORTED_ALGORITHM'],
    ['a foreign trust domain', async () => bearer(await authority.mint({ sub: 'spiffe://partner.example/svc', aud: AUDIENCE })), 'JWT_SVID_NO_BUNDLE'],
  ])('answers 401 with WWW-Authenticate for %s, and counts it without a SPIFFE ID', async (_name, headers, code) => {
    const { result, output } = await invoke(getUser('user-2', await headers()));

    expect(result.statusCode).toBe(401);
    expect(result.headers?.['www-authenticate']).toBe('Bearer error="invalid_token"');
    expect(JSON.parse(result.body).error.code).toBe(code);
    expect(counted(output)).toEqual([{ spiffeId: 'none', result: 'invalid', count: 1 }]);
  });

  it('answers 403 to a valid token of a caller not on the allow-list, and counts its SPIFFE ID', async () => {
    const token = await authority.mint({ sub: 'spiffe://jia.app/billing-service', aud: AUDIENCE });

    const { result, output } = await invoke(getUser('user-2', bearer(token)));

    expect(result.statusCode).toBe(403);
    expect(JSON.parse(result.body).error.code).toBe('SPIFFE_ID_NOT_ALLOWED');
    expect(counted(output)).toEqual([{ spiffeId: 'spiffe://jia.app/billing-service', result: 'denied', count: 1 }]);
  });

  it('fetches the bundle again when a token names a key it does not hold yet (rotation)', async () => {
    rotated = await Authority.create('jia.app', 'RS256');
    const before = bundleEndpoint.requests;

    const { result } = await invoke(getUser('user-2', bearer(await rotated.mint({ sub: FAMILY_SERVICE, aud: AUDIENCE }))));

    expect(result.statusCode).toBe(200);
    expect(bundleEndpoint.requests).toBe(before + 1);
  });

  it('refuses a token from a key the bundle never held, without fetching again during the cooldown', async () => {
    const forger = await Authority.create('jia.app');
    const before = bundleEndpoint.requests;

    const { result } = await invoke(getUser('user-2', bearer(await forger.mint({ sub: FAMILY_SERVICE, aud: AUDIENCE }))));

    expect(result.statusCode).toBe(401);
    expect(JSON.parse(result.body).error.code).toBe('JWT_SVID_NO_AUTHORITY');
    expect(bundleEndpoint.requests).toBe(before);
  });

  it('leaves direct invokes alone: IAM decides who may invoke', async () => {
    const { result } = await invoke({ userId: 'user-2' });

    expect(result).toMatchObject({ id: 'user-2', familyId: 'family-1' });
  });
});
