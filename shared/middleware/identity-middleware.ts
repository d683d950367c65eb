import type { MiddlewareObj } from '@middy/core';
import type { Context } from 'aws-lambda';
import type { IdentitySource } from '../identity/identity-source.js';
import type { SpiffeId } from '../spiffe/spiffe-id.js';

/** What the identity middleware adds to the Lambda context: who we are, never our key. */
export interface IdentityContext {
  /** Named `spiffe` because Lambda's context already has an `identity` (Cognito). */
  spiffe: { id: SpiffeId; expiresAt: Date };
}

export interface IdentityMiddlewareOptions {
  /** The container's identity source, kept in module scope so warm invocations reuse it. */
  source: IdentitySource;
}

/**
 * Ensures the function's SVID is loaded (and refreshed when due) before the handler runs.
 * A missing, malformed or expired secret fails the invocation with the source's
 * {@link IdentityError}, whose message names the secret and the broken rule.
 */
export const identityMiddleware = (
  options: IdentityMiddlewareOptions,
): MiddlewareObj<unknown, unknown, Error, Context & IdentityContext> => {
  const { source } = options;
  const identityMiddlewareBefore: NonNullable<MiddlewareObj<unknown, unknown, Error, Context & IdentityContext>['before']> =
    async (request) => {
      const material = await source.current();
      request.context.spiffe = { id: material.svid.id, expiresAt: material.svid.notAfter };
    };
  return { name: 'identity', before: identityMiddlewareBefore };
};
