/**
 * Everything the benchmark runs, bundled the way the CDK stack bundles the functions (both take
 * their esbuild settings from `cdk/bundling/function-bundling.ts`, with its defaults: ESM, node24,
 * `module` before `main`, a real `require` for bundled CommonJS, `node:http` through CommonJS,
 * minified but for line breaks, names kept, linked source maps, the AWS SDK left to the runtime): the functions and
 * the bare client (the size and cold-start figures), the cold-start runner, and the phases, so
 * that warm figures too are taken on code as Lambda loads it, with no TypeScript loader in the
 * process. Sizes are of the `.mjs` a Lambda loads, without its map.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build, type BuildOptions, type Metafile } from 'esbuild';
import { COMPILE_CACHE_DIR, compileCacheEnvironment } from '../../cdk/bundling/compile-cache.js';
import { esbuildOptions } from '../../cdk/bundling/function-bundling.js';

const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The Lambda handlers bundled for the size and cold-start figures, relative to the project root. */
export const HANDLER_ENTRIES = {
  'bare-client': 'test/bench/bare-handler.ts',
  'bench-function': 'test/bench/mesh-handler.ts',
  'get-user-info': 'functions/get-user-info/handler.ts',
  'grant-entitlements': 'functions/grant-entitlements/handler.ts',
  'mesh-health': 'functions/mesh-health/handler.ts',
  'payment-webhook': 'functions/payment-webhook/handler.ts',
} as const;

export type BundleName = keyof typeof HANDLER_ENTRIES;

/** The deployed functions (the bundle-size figure); the other handlers are the benchmark's own. */
export const FUNCTION_BUNDLES = ['get-user-info', 'grant-entitlements', 'mesh-health', 'payment-webhook'] as const satisfies readonly BundleName[];

/** The phases (`phases/<name>.ts`), each run in a process of its own. */
export const PHASES = ['warm', 'fanout', 'grant-throughput', 'breaker', 'steady-state', 'discovery-ttl'] as const;

export type PhaseName = (typeof PHASES)[number];

export interface Bundle {
  name: BundleName;
  /** Absolute path of the `.mjs`. */
  path: string;
  bytes: number;
  /** Bytes in the bundle by package (`zod`, `@grpc/grpc-js`, `shared`, …), largest first. */
  byPackage: [string, number][];
}

export interface BuiltBundles {
  handlers: Record<BundleName, Bundle>;
  runner: string;
  /** The `.mjs` of each phase. */
  phases: Record<PhaseName, string>;
  /** The handlers' compile cache, as `compileCache` ships it (not in `--quick`). */
  compileCache?: CompileCache;
}

/** A primed compile cache beside the bundles. */
export interface CompileCache {
  /** The variables a function deployed with `compileCache` gets. */
  env: Record<string, string>;
  /**
   * Removes what a run added to the cache: Lambda's `/var/task` is read-only, so a container
   * never adds the SDK's or the runner's code to it, whereas here Node writes them at exit.
   */
  reset(): void;
}

/** The handlers whose cold starts the benchmark measures. */
const CACHED_HANDLERS: readonly BundleName[] = ['bare-client', 'bench-function', 'get-user-info'];

const PRIMER = fileURLToPath(new URL('../../cdk/bundling/prime-compile-cache.mjs', import.meta.url));

/**
 * Primes the compile cache of `names` as the CDK bundling hook does, from a copy outside the
 * project (an asset directory, where the runtime's AWS SDK cannot be found and so is never cached
 * with the bundle), then moves the cache beside the bundles: its paths are relative.
 */
async function primeCompileCache(dir: string, names: readonly BundleName[]): Promise<CompileCache> {
  const asset = mkdtempSync(join(tmpdir(), 'bench-asset-'));
  try {
    for (const name of names) copyFileSync(join(dir, `${name}.mjs`), join(asset, `${name}.mjs`));
    await promisify(execFile)(process.execPath, [PRIMER, asset, ...names.map((name) => `${name}.mjs`)]);
    renameSync(join(asset, COMPILE_CACHE_DIR), join(dir, COMPILE_CACHE_DIR));
  } finally {
    rmSync(asset, { recursive: true, force: true });
  }
  const cache = join(dir, COMPILE_CACHE_DIR);
  const primed = new Set(readdirSync(cache, { recursive: true }).map(String));
  return {
    env: compileCacheEnvironment(dir),
    reset() {
      for (const entry of readdirSync(cache, { recursive: true }).map(String)) {
        if (!primed.has(entry)) rmSync(join(cache, entry), { recursive: true, force: true });
      }
    },
  };
}

function packageOf(input: string): string {
  const inModules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
  if (inModules) return inModules[1]!;
  return input.split('/')[0] ?? input;
}

function bundleOf(name: BundleName, path: string, output: Metafile['outputs'][string]): Bundle {
  const byPackage = new Map<string, number>();
  for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
    const key = packageOf(input);
    byPackage.set(key, (byPackage.get(key) ?? 0) + bytesInOutput);
  }
  return { name, path, bytes: statSync(path).size, byPackage: [...byPackage].sort((a, b) => b[1] - a[1]) };
}

/** As deployed, without source maps (each build says whether it writes them). */
const AS_CDK = {
  ...esbuildOptions(),
  sourcemap: false,
  outExtension: { '.js': '.mjs' },
  metafile: true,
  logLevel: 'error',
} satisfies BuildOptions;

/**
 * Bundles every entry into `dir` (`<name>.mjs`, `phase-<name>.mjs`, `cold-start-runner.mjs`). The
 * handlers get linked source maps as CDK writes them (read only under `--enable-source-maps`)
 * unless `sourceMaps` is false; a map adds one `sourceMappingURL` comment to a bundle's size.
 * With `compileCache`, the measured handlers' compile cache is primed as CDK's hook primes it.
 * The phases share chunks and carry no maps: nothing reads them, and maps double esbuild's time.
 *
 * `dir` must be inside the project: the bundles import the AWS SDK, as Lambda's runtime provides
 * it, from the project's `node_modules` (ES modules do not search `NODE_PATH`).
 *
 * @throws when `dir` is outside the project.
 */
export async function buildBundles(dir: string, opts: { sourceMaps: boolean; compileCache: boolean } = { sourceMaps: true, compileCache: true }): Promise<BuiltBundles> {
  if (relative(PROJECT_ROOT, dir).startsWith('..')) {
    throw new Error(`bundles must be written inside the project to find the AWS SDK in its node_modules, got ${dir}`);
  }
  const names = Object.keys(HANDLER_ENTRIES) as BundleName[];
  const phaseEntries = Object.fromEntries(PHASES.map((phase) => [`phase-${phase}`, `test/bench/phases/${phase}.ts`]));
  const builds = await Promise.all([
    build({
      ...AS_CDK,
      absWorkingDir: PROJECT_ROOT,
      outdir: dir,
      entryPoints: HANDLER_ENTRIES,
      ...(opts.sourceMaps ? { sourcemap: 'linked' } : {}),
    }),
    build({
      ...AS_CDK,
      absWorkingDir: PROJECT_ROOT,
      outdir: dir,
      entryPoints: { ...phaseEntries, 'cold-start-runner': 'test/bench/cold-start-runner.ts' },
      splitting: true,
      chunkNames: 'chunks/[name]-[hash]',
    }),
  ]);
  const outputs = builds.flatMap((result) => Object.entries(result.metafile.outputs)).filter(([path]) => path.endsWith('.mjs'));
  const pathOf = (name: string) => join(dir, `${name}.mjs`);
  const outputOf = (name: string) => outputs.find(([path]) => path.endsWith(`/${name}.mjs`))![1];
  return {
    handlers: Object.fromEntries(names.map((name) => [name, bundleOf(name, pathOf(name), outputOf(name))])) as Record<BundleName, Bundle>,
    runner: pathOf('cold-start-runner'),
    phases: Object.fromEntries(PHASES.map((phase) => [phase, pathOf(`phase-${phase}`)])) as Record<PhaseName, string>,
    ...(opts.compileCache ? { compileCache: await primeCompileCache(dir, CACHED_HANDLERS) } : {}),
  };
}
