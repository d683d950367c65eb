/**
 * Cold starts for simulated containers: each gets its own instance of the handler module and of
 * every project module under it (MeshRuntime, ServicePolicy, breaker, channel, caches), with
 * `process.env` as the container was deployed. Packages (grpc-js, the AWS SDK, Powertools) are
 * shared, as the process is.
 *
 * Two ways, one contract ({@link ContainerLoader}): under tsx (`npm run fleet`) Node module hooks
 * carry a `?fleet-container=` query down the import graph (container-module-hooks.mjs); under
 * vitest, whose module runner does not go through Node's hooks, `vi.resetModules()` before each
 * import does the same (the test passes that loader in).
 */
import { register } from 'node:module';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';

export type GrantHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;
export type HealthHandler = (event: unknown, context: Context) => Promise<unknown>;

export interface HandlerModules {
  grant: GrantHandler;
  health: HealthHandler;
}

/** The handler modules, relative to this file. */
export const HANDLER_PATHS: Readonly<Record<keyof HandlerModules, string>> = {
  grant: '../../functions/grant-entitlements/handler.js',
  health: '../../functions/mesh-health/handler.js',
};

/**
 * Cold-starts one container of `kind` named `id`. The handler reads `process.env` at init and its
 * SDK clients on first use, so the caller sets the container's environment around both.
 */
export type ContainerLoader = <K extends keyof HandlerModules>(kind: K, id: string) => Promise<HandlerModules[K]>;

let hooksRegistered = false;

/** The loader for plain Node (tsx): a module graph per container through the query-carrying hooks. */
export const queryIsolatedLoader: ContainerLoader = async (kind, id) => {
  if (!hooksRegistered) {
    register('./container-module-hooks.mjs', import.meta.url);
    hooksRegistered = true;
  }
  const url = new URL(HANDLER_PATHS[kind], import.meta.url);
  url.searchParams.set('fleet-container', id);
  return ((await import(/* @vite-ignore */ url.href)) as { handler: HandlerModules[typeof kind] }).handler;
};
