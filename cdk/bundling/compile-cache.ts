/**
 * V8's compile cache shipped in a function's asset: Node 22+ keeps the code V8 compiled for a
 * module (`NODE_COMPILE_CACHE`) and, finding it at the next start, skips parsing and compiling the
 * bundle's top level again. A Lambda container is always a first start, so the cache is built at
 * bundling time (`prime-compile-cache.mjs`) and read from the read-only `/var/task`: Node reads
 * it there and silently skips writing.
 *
 * Node keys the cache by its exact version, the architecture and V8's flags: a cache built by
 * another Node (a runtime update) or on another architecture is not used at all, at no cost but
 * the asset's size. That is why it is a choice (`compileCache`), and why the synth refuses it
 * for an architecture other than the building machine's; the function logs a warning at a cold
 * start when it finds no cache for its Node (see `shared/observability/compile-cache-check.ts`).
 */
import { fileURLToPath } from 'node:url';
import type { ICommandHooks } from 'aws-cdk-lib/aws-lambda-nodejs';

/** Where Lambda unpacks the asset (`LAMBDA_TASK_ROOT`). */
export const LAMBDA_TASK_ROOT = '/var/task';

/** The cache's directory in the asset, beside the bundle. */
export const COMPILE_CACHE_DIR = '.node-compile-cache';

const PRIMER = fileURLToPath(new URL('./prime-compile-cache.mjs', import.meta.url));

/** The variables that make Node read the shipped cache: the bundle's path relative to the cache. */
export function compileCacheEnvironment(taskRoot = LAMBDA_TASK_ROOT): Record<string, string> {
  return { NODE_COMPILE_CACHE: `${taskRoot}/${COMPILE_CACHE_DIR}`, NODE_COMPILE_CACHE_PORTABLE: '1' };
}

/**
 * The bundling commands that prime the cache in the asset, run by the Node running the synth
 * (whose version and architecture the cache is for).
 */
export function compileCacheHooks(nodeExecutable = process.execPath): ICommandHooks {
  return {
    beforeBundling: () => [],
    beforeInstall: () => [],
    afterBundling: (_inputDir, outputDir) => [`"${nodeExecutable}" "${PRIMER}" "${outputDir}" index.mjs`],
  };
}
