/**
 * Node module hooks (registered by container-modules.ts) that give every simulated container its
 * own copy of the project's modules: a module imported with `?fleet-container=<id>` passes the
 * same query on to every project file it imports, so each container's import graph is a separate
 * set of module instances, as in its own Lambda sandbox. Packages under node_modules stay shared
 * (their state is per process in Lambda too, and copying grpc-js or the AWS SDK 50 times would only
 * cost memory). Plain JavaScript: hooks run on the loader thread, before any TypeScript loader.
 */
const PARAM = 'fleet-container';

export async function resolve(specifier, context, nextResolve) {
  const result = await nextResolve(specifier, context);
  const parent = context.parentURL;
  if (parent === undefined || !parent.includes(`${PARAM}=`)) return result;
  if (!result.url.startsWith('file:') || result.url.includes('/node_modules/')) return result;
  const container = new URL(parent).searchParams.get(PARAM);
  if (container === null) return result;
  const url = new URL(result.url);
  url.searchParams.set(PARAM, container);
  return { ...result, url: url.href };
}
