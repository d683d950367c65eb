import type { MiddlewareObj } from '@middy/core';
import type { Context } from 'aws-lambda';
import type { ContactClient } from '../transport/contact-client.js';
import type { MeshHealthClient } from '../transport/health-client.js';
import type { IdentityContext } from './identity-middleware.js';
import type { MeshRuntime } from './mesh-runtime.js';

/** What the mesh middleware adds to the Lambda context: typed clients, never credentials. */
export interface MeshContext extends IdentityContext {
  mesh: {
    /** The contact-service, with this invocation's deadline, retries and breaker. */
    contact: ContactClient;
    /** `grpc.health.v1` of any configured service. */
    health(service: string): MeshHealthClient;
  };
}

export interface MeshMiddlewareOptions {
  /** The container's runtime, or a function creating it on first use (kept in module scope). */
  runtime: MeshRuntime | (() => MeshRuntime);
}

/**
 * Makes the handler a mesh member for one invocation: ensures the SVID is loaded (refreshing it
 * when due) and puts typed mesh clients bound to the invocation's remaining time on the context.
 * A missing, malformed or expired SVID fails the invocation with the identity source's typed error.
 */
export const meshMiddleware = (options: MeshMiddlewareOptions): MiddlewareObj<unknown, unknown, Error, Context & MeshContext> => {
  const runtimeOf = typeof options.runtime === 'function' ? options.runtime : () => options.runtime as MeshRuntime;
  const meshMiddlewareBefore = async (request: { context: Context & MeshContext }): Promise<void> => {
    const runtime = runtimeOf();
    const material = await runtime.currentSvid();
    const { context } = request;
    context.spiffe = { id: material.svid.id, expiresAt: material.svid.notAfter };
    context.mesh = {
      contact: runtime.contactClient(context),
      health: (service) => runtime.healthClient(service, context),
    };
  };
  return { name: 'mesh', before: meshMiddlewareBefore };
};
