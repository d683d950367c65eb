/**
 * How a function is bundled, declared once. `MeshFunction` deploys these bundles and the benchmark
 * (`test/bench/bundles.ts`) measures them, so both render their esbuild settings from here: a
 * choice made for one and not the other would make the size and cold-start figures describe code
 * that is never deployed.
 */
import { fileURLToPath } from 'node:url';
import { OutputFormat, SourceMapMode, type BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { BuildOptions } from 'esbuild';
import { compileCacheEnvironment, compileCacheHooks, LAMBDA_TASK_ROOT } from './compile-cache.js';

/** What a deployment may choose about its bundles. */
export interface FunctionBundlingOptions {
  /**
   * Bundle the AWS SDK (`@aws-sdk/*` and the `@smithy/*` it is built on) into each function
   * instead of importing the SDK the Lambda runtime carries: the versions the tests ran against,
   * at about 400 KB a function.
   */
  readonly bundleAwsSdk?: boolean;
  /**
   * Have Node apply the bundle's source map to stack traces (`NODE_OPTIONS=--enable-source-maps`).
   * Node then reads and parses the map at every cold start (measured: 16 ms of the bench
   * function's, see test/bench/RESULTS.md), so it is off by default. The map is shipped either
   * way, and function names and line breaks are kept, so a stack trace stays readable.
   */
  readonly sourceMaps?: boolean;
  /**
   * Ship V8's compile cache of the bundle in the asset (see `compile-cache.ts`): only used where
   * the Lambda runtime's Node version and architecture are the ones that built it.
   */
  readonly compileCache?: boolean;
}

export const FUNCTION_BUNDLING_DEFAULTS = {
  bundleAwsSdk: false,
  sourceMaps: false,
  compileCache: false,
} as const satisfies Required<FunctionBundlingOptions>;

/**
 * esbuild turns the CommonJS inside dependencies (grpc-js, Powertools' own) into ESM, but a
 * `require()` of a Node built-in has no ESM equivalent; this gives the bundle a real `require`.
 * The import is aliased so it cannot collide with a bundled module's own `createRequire`.
 */
export const REQUIRE_SHIM =
  "import { createRequire as __meshFunctionCreateRequire } from 'node:module'; const require = __meshFunctionCreateRequire(import.meta.url);";

/**
 * Import paths esbuild replaces, by prefix: `node:http` with a CommonJS re-export, so that Node
 * never builds its ESM namespace and loads undici for it (see `node-http.cjs`). Only `node:http`:
 * an alias of `node:fs` would also catch `node:fs/promises`. The path is absolute so that it does
 * not depend on the directory esbuild runs in (CDK runs it from the project root).
 */
const ALIASES: Readonly<Record<string, string>> = {
  'node:http': fileURLToPath(new URL('./node-http.cjs', import.meta.url)),
};

/**
 * The SDK left to the runtime, as CDK itself leaves it for Node.js 18 and later runtimes with
 * `@aws-cdk/aws-lambda-nodejs:sdkV3ExcludeSmithyPackages` (set in cdk.json). The functions import
 * only `client-dynamodb`, `client-lambda`, `client-secrets-manager`, `client-servicediscovery` and
 * `client-sqs` (some of them on first use), never `@smithy/*` directly; the runtime carries all five.
 */
const RUNTIME_SDK_MODULES: readonly string[] = ['@aws-sdk/*', '@smithy/*'];

/** The choices both renderings share. */
const CHOICES = {
  /** The Lambda runtime is `nodejs24.x`. */
  target: 'node24',
  mainFields: ['module', 'main'],
  banner: REQUIRE_SHIM,
  // Identifiers and syntax minified, line breaks kept: a stack trace's `index.mjs:40213:18`
  // points at one statement of readable code in the deployed bundle, with or without the map.
  minifyIdentifiers: true,
  minifySyntax: true,
  minifyWhitespace: false,
  // Named functions (middy's, the mesh layer's) stay readable in stack traces and X-Ray.
  keepNames: true,
  // Linked maps, shipped beside the bundle for `--enable-source-maps` or offline symbolication,
  // without the sources: they stay small.
  sourcesContent: false,
  aliases: ALIASES,
};

function externals(options: FunctionBundlingOptions): string[] {
  const bundleAwsSdk = options.bundleAwsSdk ?? FUNCTION_BUNDLING_DEFAULTS.bundleAwsSdk;
  return bundleAwsSdk ? [] : [...RUNTIME_SDK_MODULES];
}

/**
 * The environment the Lambda runtime starts Node with for these bundles: the source-map flag and
 * the compile cache's location, when chosen. `taskRoot` is where the asset is unpacked.
 */
export function runtimeEnvironment(options: FunctionBundlingOptions = {}, taskRoot = LAMBDA_TASK_ROOT): Record<string, string> {
  const { sourceMaps, compileCache } = { ...FUNCTION_BUNDLING_DEFAULTS, ...withoutUndefined(options) };
  return {
    ...(sourceMaps ? { NODE_OPTIONS: '--enable-source-maps' } : {}),
    ...(compileCache ? compileCacheEnvironment(taskRoot) : {}),
  };
}

function withoutUndefined<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as Partial<T>;
}

/**
 * The `bundling` of a `NodejsFunction`: one ESM file with a linked source map, built by
 * the local esbuild (a devDependency), never in Docker. `nodeModules` are installed beside the
 * bundle instead of bundled.
 */
export function lambdaBundling(options: FunctionBundlingOptions & { nodeModules?: string[] } = {}): BundlingOptions {
  return {
    format: OutputFormat.ESM,
    target: CHOICES.target,
    mainFields: [...CHOICES.mainFields],
    banner: CHOICES.banner,
    // CDK's `minify` is all three; the two kept are esbuild arguments.
    minify: false,
    keepNames: CHOICES.keepNames,
    sourceMap: true,
    sourceMapMode: SourceMapMode.DEFAULT,
    sourcesContent: CHOICES.sourcesContent,
    // Explicit rather than CDK's default, which would follow a feature flag the benchmark cannot see.
    externalModules: externals(options),
    esbuildArgs: {
      '--minify-identifiers': CHOICES.minifyIdentifiers,
      '--minify-syntax': CHOICES.minifySyntax,
      ...Object.fromEntries(Object.entries(CHOICES.aliases).map(([from, to]) => [`--alias:${from}`, to])),
    },
    ...(options.compileCache ?? FUNCTION_BUNDLING_DEFAULTS.compileCache ? { commandHooks: compileCacheHooks() } : {}),
    forceDockerBundling: false,
    ...(options.nodeModules ? { nodeModules: options.nodeModules } : {}),
  };
}

/**
 * The same bundle as esbuild build options, for building it outside CDK: one ESM file per entry,
 * with a linked source map beside it, as the asset ships it.
 */
export function esbuildOptions(options: FunctionBundlingOptions = {}): BuildOptions {
  return {
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: CHOICES.target,
    mainFields: [...CHOICES.mainFields],
    banner: { js: CHOICES.banner },
    minifyIdentifiers: CHOICES.minifyIdentifiers,
    minifySyntax: CHOICES.minifySyntax,
    minifyWhitespace: CHOICES.minifyWhitespace,
    keepNames: CHOICES.keepNames,
    sourcemap: 'linked',
    sourcesContent: CHOICES.sourcesContent,
    external: externals(options),
    alias: { ...CHOICES.aliases },
  };
}
