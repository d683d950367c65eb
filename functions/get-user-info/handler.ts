import middy from '@middy/core';
import type { APIGatewayProxyResult, Context } from 'aws-lambda';
import { JwtSvidAuthenticator } from '../../shared/authentication/jwt-svid-authenticator.js';
import { loadJwtSvidConfig } from '../../shared/config/jwt-svid-config.js';
import { meshSdkClients, preloadAwsSdk } from '../../shared/cold-start/aws-sdk-preload.js';
import { loadMeshConfig } from '../../shared/config/load-mesh-config.js';
import { EntitlementStore } from '../../shared/entitlements/entitlement-store.js';
import { entitlementsTableFromEnv } from '../../shared/entitlements/entitlements-table-env.js';
import type { HttpHeaders } from '../../shared/authentication/bearer-token.js';
import { MeshCallError } from '../../shared/errors.js';
import { meshMiddleware, type MeshContext } from '../../shared/middleware/mesh-middleware.js';
import { MeshRuntime } from '../../shared/middleware/mesh-runtime.js';
import { observabilityMiddleware } from '../../shared/middleware/observability-middleware.js';
import { meshTelemetry } from '../../shared/observability/mesh-telemetry.js';
import { checkCaller } from './caller-check.js';
import { getUserInfo, type UserView } from './get-user-info.js';
import { httpErrorOf, UserRequestError, userRequestOf } from './user-request.js';

// Validated at init: a missing or bad setting fails the cold start with a message naming the key.
const config = loadMeshConfig();
// The SDK clients the first invocation needs, loaded within init.
await preloadAwsSdk(meshSdkClients(config));
const jwtSvid = loadJwtSvidConfig();
const tableName = entitlementsTableFromEnv();
const telemetry = meshTelemetry();
let runtime: MeshRuntime | undefined;
let store: EntitlementStore | undefined;
let authenticator: JwtSvidAuthenticator | undefined;

/** Kept back from the invocation's remaining time when bounding a JWT bundle fetch. */
const BUNDLE_FETCH_MARGIN_MS = 500;

const meshRuntime = () => (runtime ??= new MeshRuntime({ config, telemetry }));

/** The container's JWT-SVID authenticator; `https_spiffe` bundle endpoints are checked against our SVID's bundles. */
function jwtSvidAuthenticator(): JwtSvidAuthenticator | undefined {
  if (jwtSvid === undefined) return undefined;
  authenticator ??= new JwtSvidAuthenticator({
    config: jwtSvid,
    x509Bundles: async () => (await meshRuntime().currentSvid()).bundles,
    cache: {
      onStale: (error, bundle) =>
        telemetry.logger.warn('jwt bundle refresh failed, keeping the last good bundle', { trustDomain: bundle.trustDomain.name, error }),
    },
  });
  return authenticator;
}

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
  // With JWT-SVID authentication on, the route has no IAM authorizer: the caller is checked here.
  const jwt = jwtSvidAuthenticator();
  if (jwt !== undefined) {
    const deadline = Date.now() + context.getRemainingTimeInMillis() - BUNDLE_FETCH_MARGIN_MS;
    const caller = await checkCaller(event as HttpHeaders, jwt, deadline);
    const spiffeId = caller.svid?.id.toString() ?? 'none';
    telemetry.metrics.recordJwtSvidRequest(spiffeId, caller.result);
    // The caller's ID rides on every later line of this invocation; the token is never logged.
    telemetry.logger.appendKeys({ callerSpiffeId: spiffeId });
    if (caller.result !== 'allowed') {
      const log = caller.result === 'unavailable' ? telemetry.logger.warn : telemetry.logger.info;
      log.call(telemetry.logger, 'jwt-svid caller refused', {
        result: caller.result,
        code: caller.code,
        reason: caller.reason,
        statusCode: caller.answer.statusCode,
      });
      return caller.answer;
    }
    telemetry.logger.info('jwt-svid caller allowed', { userId: request.userId });
  }
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
  .use(meshMiddleware({ runtime: meshRuntime }));
