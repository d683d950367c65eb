/**
 * The benchmark's full-stack function: get-user-info's mesh path, wired exactly as the functions
 * are (`functions/get-user-info/handler.ts`) but without its DynamoDB read, so that it does the
 * same work as the bare client: one `GetUserInfo`. Every layer is on: configuration read at
 * init, the SVID from its source, discovery, the call policy (deadline from the Lambda's remaining
 * time, retry, breaker, bulkhead), metrics flushed per invocation, logs at the deployed level
 * (INFO: a successful call's line is DEBUG and not written).
 */
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { meshSdkClients, preloadAwsSdk } from '../../shared/cold-start/aws-sdk-preload.js';
import { loadMeshConfig } from '../../shared/config/load-mesh-config.js';
import { meshMiddleware, type MeshContext } from '../../shared/middleware/mesh-middleware.js';
import { MeshRuntime } from '../../shared/middleware/mesh-runtime.js';
import { observabilityMiddleware } from '../../shared/middleware/observability-middleware.js';
import { meshTelemetry } from '../../shared/observability/mesh-telemetry.js';
import type { Contact } from '../../shared/transport/contact-client.js';

const config = loadMeshConfig();
await preloadAwsSdk(meshSdkClients(config));
const telemetry = meshTelemetry();
let runtime: MeshRuntime | undefined;

/** The container's mesh runtime (created by the first invocation); the benchmark reads its counters. */
export function meshRuntime(): MeshRuntime {
  runtime ??= new MeshRuntime({ config, telemetry });
  return runtime;
}

async function getContactHandler(event: { userId: string }, context: Context & MeshContext): Promise<Contact> {
  return context.mesh.contact.getUserInfo(event.userId);
}

export const handler = middy(getContactHandler)
  .use(observabilityMiddleware({ telemetry }))
  .use(meshMiddleware({ runtime: meshRuntime }));

/** {@link handler} as Lambda calls it: the middlewares fill in the mesh part of the context. */
export const invoke = handler as unknown as (event: { userId: string }, context: Context) => Promise<Contact>;
