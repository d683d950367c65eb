import { status } from '@grpc/grpc-js';
import type { APIGatewayProxyResult, Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EntitlementStore } from '../../../shared/entitlements/entitlement-store.js';
import { MeshCallError } from '../../../shared/errors.js';
import { captureOutput } from '../../fixtures/capture-output.js';
import { command, ENTITLEMENTS_TABLE, startFunctionEnvironment, type FunctionEnvironment } from '../../fixtures/function-environment.js';
import { lambdaContext } from '../../fixtures/mesh-environment.js';
import { apiGatewayV1Event, apiGatewayV2Event } from '../../fixtures/stripe.js';

let env: FunctionEnvironment;
let handler: (event: unknown, context: Context) => Promise<unknown>;

beforeAll(async () => {
  env = await startFunctionEnvironment({ CIRCUIT_BREAKER_FAILURE_THRESHOLD: '2', CIRCUIT_BREAKER_TIMEOUT_SECONDS: '60' });
  ({ handler } = (await import('../../../functions/get-user-info/handler.js')) as unknown as { handler: typeof handler });
  const change = command({ entitlement: 'premium_features' });
  await new EntitlementStore({ tableName: ENTITLEMENTS_TABLE }).applyToMembers(['user-2'], { ...change, familyId: 'family-1' });
});
afterAll(async () => {
  await env.close();
});

async function invoke(event: unknown): Promise<unknown> {
  const output = captureOutput();
  try {
    return await handler(event, lambdaContext() as unknown as Context);
  } finally {
    output.restore();
  }
}

function httpGet(userId: string, version: 1 | 2 = 2) {
  const base = { method: 'GET', path: `/users/${userId}`, body: '' };
  const event = version === 2 ? apiGatewayV2Event(base) : apiGatewayV1Event(base);
  return { ...event, pathParameters: { userId }, ...(version === 2 ? { routeKey: 'GET /users/{userId}' } : {}) };
}

describe('get-user-info', () => {
  it('answers a direct invoke with the user and their entitlements', async () => {
    const user = await invoke({ userId: 'user-2' });

    expect(user).toEqual({
      id: 'user-2',
      name: 'Charles Babbage',
      email: 'user-2@example.test',
      familyId: 'family-1',
      entitlements: [{ name: 'premium_features', status: 'granted', grantedAt: expect.any(String) as string }],
    });
  });

  it.each([1, 2] as const)('answers GET /users/{userId} (API Gateway v%i) with 200 and the same JSON', async (version) => {
    const result = (await invoke(httpGet('user-2', version))) as APIGatewayProxyResult;

    expect(result.statusCode).toBe(200);
    expect(JSON.parse(result.body)).toMatchObject({ id: 'user-2', familyId: 'family-1', entitlements: [{ name: 'premium_features', status: 'granted' }] });
  });

  it('answers 404 for an unknown user, and a direct invoke throws MESH_NOT_FOUND', async () => {
    const result = (await invoke(httpGet('nobody'))) as APIGatewayProxyResult;
    const thrown = await invoke({ userId: 'nobody' }).catch((e: unknown) => e);

    expect(result.statusCode).toBe(404);
    expect(JSON.parse(result.body).error.code).toBe('MESH_NOT_FOUND');
    expect(thrown).toBeInstanceOf(MeshCallError);
    expect((thrown as MeshCallError).code).toBe('MESH_NOT_FOUND');
  });

  it('rejects a direct invoke without a userId with a typed error', async () => {
    const thrown = (await invoke({ user: 'user-1' }).catch((e: unknown) => e)) as { code: string; message: string };

    expect(thrown.code).toBe('USER_REQUEST_INVALID');
  });

  it('answers 503 with Retry-After while the contact-service is unavailable, then while its breaker is open', async () => {
    env.mesh.contact.setFault({ kind: 'status', code: status.UNAVAILABLE });

    const unavailable = (await invoke(httpGet('user-1'))) as APIGatewayProxyResult;
    const breakerOpen = (await invoke(httpGet('user-1'))) as APIGatewayProxyResult;
    env.mesh.contact.setFault({ kind: 'none' });

    expect(unavailable.statusCode).toBe(503);
    expect(JSON.parse(unavailable.body).error.code).toBe('MESH_UNAVAILABLE');
    expect(unavailable.headers?.['retry-after']).toBe('1');
    expect(breakerOpen.statusCode).toBe(503);
    expect(JSON.parse(breakerOpen.body).error.code).toBe('MESH_BREAKER_OPEN');
    expect(breakerOpen.headers?.['retry-after']).toBe('60');
  });
});
