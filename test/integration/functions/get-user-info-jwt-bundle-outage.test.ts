import type { APIGatewayProxyResult, Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureOutput } from '../../fixtures/capture-output.js';
import { startFunctionEnvironment, type FunctionEnvironment } from '../../fixtures/function-environment.js';
import { lambdaContext } from '../../fixtures/mesh-environment.js';
import type { DevJwtAuthority } from '../../local/dev-jwt-authority.js';
import { startJwtBundleServer, type JwtBundleServer } from '../../local/jwt-bundle-server.js';
import { userInfoHttpRequest } from '../../local/jwt-svid-request.js';

/** The real handler while its trust domain's bundle endpoint is down at a cold start, then back. */
const AUDIENCE = 'spiffe://jia.app/payment-functions';

let env: FunctionEnvironment;
let endpoint: JwtBundleServer;
let authority: DevJwtAuthority;
let handler: (event: unknown, context: Context) => Promise<unknown>;

beforeAll(async () => {
  env = await startFunctionEnvironment();
  authority = await env.mesh.ca.jwtAuthority();
  endpoint = await startJwtBundleServer({ ...(await env.mesh.ca.mintSvid('spiffe://jia.app/spire/server')), document: () => authority.spiffeBundle() });
  Object.assign(process.env, {
    JWT_SVID_AUDIENCE: AUDIENCE,
    JWT_SVID_ALLOWED_IDS: 'spiffe://jia.app/family-service',
    JWT_SVID_BUNDLE_URL: endpoint.url,
    JWT_SVID_BUNDLE_ENDPOINT_SPIFFE_ID: 'spiffe://jia.app/spire/server',
  });
  ({ handler } = (await import('../../../functions/get-user-info/handler.js')) as unknown as { handler: typeof handler });
});
afterAll(async () => {
  await endpoint?.close();
  await env?.close();
});

async function getUser(): Promise<APIGatewayProxyResult> {
  const token = await authority.mint({ sub: 'spiffe://jia.app/family-service', aud: AUDIENCE });
  const output = captureOutput();
  try {
    return (await handler(userInfoHttpRequest('user-2', token), lambdaContext() as unknown as Context)) as APIGatewayProxyResult;
  } finally {
    output.restore();
  }
}

describe('get-user-info when the JWT bundle endpoint is down', () => {
  it('answers 503 with Retry-After while no bundle was ever fetched, then 200 once the endpoint is back', async () => {
    endpoint.failWith(503);
    const down = await getUser();
    endpoint.failWith(undefined);
    const back = await getUser();

    expect(down.statusCode).toBe(503);
    expect(down.headers?.['retry-after']).toBe('1');
    expect(JSON.parse(down.body).error.code).toBe('JWT_BUNDLE_FETCH_FAILED');
    expect(back.statusCode).toBe(200);
    expect(endpoint.requests).toBe(2);
  });

  it('answers 503 rather than wait past the invocation\'s remaining time for a slow endpoint', async () => {
    // The cached bundle is fine; a token with an unknown kid forces a refresh against a slow endpoint.
    endpoint.delay(3_000);
    const { DevJwtAuthority } = await import('../../local/dev-jwt-authority.js');
    const stranger = await DevJwtAuthority.create('jia.app');
    const token = await stranger.mint({ sub: 'spiffe://jia.app/family-service', aud: AUDIENCE });
    const started = performance.now();
    const output = captureOutput();
    let result: APIGatewayProxyResult;
    try {
      result = (await handler(userInfoHttpRequest('user-2', token), lambdaContext(1_500) as unknown as Context)) as APIGatewayProxyResult;
    } finally {
      output.restore();
      endpoint.delay(0);
    }

    // The refresh gives up after 1 s (1.5 s left minus the 500 ms margin); the last good bundle
    // is kept, and it does not hold the stranger's key.
    // Waiting for the endpoint would take its full 3 s delay.
    expect(performance.now() - started).toBeLessThan(3_000);
    expect(result.statusCode).toBe(401);
    expect(JSON.parse(result.body).error.code).toBe('JWT_SVID_NO_AUTHORITY');
    expect(output.logs().some((line) => line.message === 'jwt bundle refresh failed, keeping the last good bundle')).toBe(true);
  });
});
