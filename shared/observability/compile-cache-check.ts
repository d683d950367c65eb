import { getCompileCacheDir } from 'node:module';

/** What a cold start tells of the shipped compile cache (`compileCache`), when it is not used. */
export interface CompileCacheMiss {
  /** `NODE_COMPILE_CACHE` as configured. */
  directory: string;
  /** The Node that looked for it, e.g. `v24.21.0 arm64`. */
  runtime: string;
}

/**
 * Whether the compile cache the function was deployed with is missing for this Node: Node keys
 * the cache by its version, architecture and V8 flags, and in the read-only `/var/task` it cannot
 * create the directory for a version it has no cache for, so it compiles without one. That happens
 * silently after a Lambda runtime update; this makes it visible once per container.
 *
 * @returns undefined when no cache is configured or Node found the directory for its version.
 */
export function compileCacheMiss(env: NodeJS.ProcessEnv = process.env, cacheDir: () => string | undefined = getCompileCacheDir): CompileCacheMiss | undefined {
  const directory = env.NODE_COMPILE_CACHE;
  if (!directory || cacheDir() !== undefined) return undefined;
  return { directory, runtime: `${process.version} ${process.arch}` };
}
