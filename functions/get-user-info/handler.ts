import middy from '@middy/core';
import type { APIGatewayProxyResult, Context } from 'aws-lambda';
import { loadMeshConfig } from '../../shared/config/load-mesh-config.js';
import { EntitlementStore } from '../../shared/entitlements/entitlement-store.js';
import { entitlementsTableFromEnv } from '../../shared/entitlements/entitlements-table-env.js';
import { MeshCallError } from '../../shared/errors.js';
import { meshMiddleware, type MeshContext } from '../../shared/middleware/mesh-middleware.js';
import { MeshRuntime } from '../../shared/middleware/mesh-runtime.js';
import { observabilityMiddleware } from '../../shared/middleware/observability-middleware.js';
import { meshTelemetry } from '../../shared/observability/mesh-telemetry.js';
import { getUserInfo, type UserView } from './get-user-info.js';
import { httpErrorOf, UserRequestError, userRequestOf } from './user-request.js';

// Validated at init: a missing or bad setting fails the cold start with a message naming the key.
const config = loadMeshConfig();
const tableName = entitlementsTableFromEnv();
const telemetry = meshTelemetry();
let runtime: MeshRuntime | undefined;
let store: EntitlementStore | undefined;

/** When an open breaker will let a probe through: what `Retry-After` tells an HTTP client. */
function retryAfterSeconds(error: unknown): number {
  if (error instanceof MeshCallError && error.code === 'MESH_BREAKER_OPEN') {
    return config.services[error.service]?.circuitBreaker.timeoutSeconds ?? 1;
  }
  return 1;
}

async function getUserInfoHandler(event: unknown, context: Context & MeshContext): Promise<UserView | APIGatewayProxyResult> {
  const request = userRequestOf(event);
  store ??= new EntitlementStore({ tableName });
  const deps = { directory: context.mesh.contact, store };
  // A direct invoke answers the user or throws the typed error (the caller sees its code).
  if (request.kind === 'direct') return getUserInfo(request.userId, deps);
  try {
    if (!request.userId) throw new UserRequestError('USER_REQUEST_INVALID', 'the path has no {userId}');
    const user = await getUserInfo(request.userId, deps);
    return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(user) };
  } catch (error) {
    const answer = httpErrorOf(error, retryAfterSeconds(error));
    if (answer.statusCode >= 500) telemetry.logger.warn('get-user-info failed', { statusCode: answer.statusCode, error });
    return answer;
  }
}

export const handler = middy(getUserInfoHandler)
  .use(observabilityMiddleware({ telemetry }))
  .use(meshMiddleware({ runtime: () => (runtime ??= new MeshRuntime({ config, telemetry })) }));
