import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { build, type BuildOptions } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMPILE_CACHE_DIR } from '../../cdk/bundling/compile-cache.js';
import { esbuildOptions, lambdaBundling, REQUIRE_SHIM, runtimeEnvironment } from '../../cdk/bundling/function-bundling.js';

const run = promisify(execFile);
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'function-bundling-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Bundles `source` with `options`, runs it in a fresh Node and returns what it printed, parsed. */
async function runBundled(source: string, options: BuildOptions): Promise<unknown> {
  const result = await build({ ...options, sourcemap: false, write: false, stdin: { contents: source, loader: 'ts', resolveDir: dir } });
  const file = join(dir, `bundle-${Math.random().toString(36).slice(2)}.mjs`);
  await writeFile(file, result.outputFiles[0]!.text);
  const { stdout } = await run(process.execPath, [file], { env: { PATH: process.env.PATH ?? '' } });
  return JSON.parse(stdout);
}

/** What a function's dependencies do with `node:http`, reporting whether Node loaded undici. */
const IMPORTS_NODE_HTTP = `
import { STATUS_CODES } from 'node:http';
console.log(JSON.stringify({ status: STATUS_CODES[200], undici: process.moduleLoadList.some((m) => m.includes('undici')) }));
`;

describe('function bundling', () => {
  it('gives CDK and esbuild the same choices', () => {
    const cdk = lambdaBundling();
    const esbuild = esbuildOptions();

    expect(cdk).toMatchObject({ format: OutputFormat.ESM, sourceMap: true, forceDockerBundling: false });
    expect(esbuild).toMatchObject({ format: 'esm', sourcemap: 'linked' });
    expect(cdk.target).toBe(esbuild.target);
    expect(cdk.mainFields).toEqual(esbuild.mainFields);
    expect(cdk.banner).toBe(REQUIRE_SHIM);
    expect(esbuild.banner).toEqual({ js: REQUIRE_SHIM });
    expect([cdk.keepNames, cdk.sourcesContent]).toEqual([esbuild.keepNames, esbuild.sourcesContent]);
    expect(cdk.externalModules).toEqual(esbuild.external);
    // Minified but for line breaks: CDK's `minify` is all or nothing, so the two parts go as arguments.
    expect(cdk.minify).toBe(false);
    expect(esbuild).toMatchObject({ minifyIdentifiers: true, minifySyntax: true, minifyWhitespace: false, keepNames: true });
    expect(cdk.esbuildArgs).toEqual({
      '--minify-identifiers': true,
      '--minify-syntax': true,
      ...Object.fromEntries(Object.entries(esbuild.alias ?? {}).map(([from, to]) => [`--alias:${from}`, to])),
    });
  });

  it('ships the source map but has Node apply it only with sourceMaps', () => {
    expect(lambdaBundling()).toMatchObject({ sourceMap: true });
    expect(runtimeEnvironment()).toEqual({});
    expect(runtimeEnvironment({ sourceMaps: true })).toEqual({ NODE_OPTIONS: '--enable-source-maps' });
  });

  it('primes a compile cache after bundling and points Node at it in /var/task only with compileCache', () => {
    expect(lambdaBundling().commandHooks).toBeUndefined();
    const hooks = lambdaBundling({ compileCache: true }).commandHooks!;
    const [command, ...others] = hooks.afterBundling('/in', '/asset-output');
    expect(others).toEqual([]);
    expect(command).toBe(`"${process.execPath}" "${join(import.meta.dirname, '../../cdk/bundling/prime-compile-cache.mjs')}" "/asset-output" index.mjs`);
    expect([hooks.beforeBundling('/in', '/out'), hooks.beforeInstall('/in', '/out')]).toEqual([[], []]);
    expect(runtimeEnvironment({ compileCache: true })).toEqual({ NODE_COMPILE_CACHE: `/var/task/${COMPILE_CACHE_DIR}`, NODE_COMPILE_CACHE_PORTABLE: '1' });
  });

  it('keeps a bundle\'s statements on lines of their own and its functions\' names', async () => {
    const source = 'export function grantToFamily(members: string[]) {\n  for (const member of members) console.error(member);\n  return members.length;\n}\nconsole.log(JSON.stringify(grantToFamily.name));';
    const result = await build({ ...esbuildOptions(), sourcemap: false, write: false, stdin: { contents: source, loader: 'ts', resolveDir: dir } });
    const code = result.outputFiles[0]!.text;

    expect(code).toMatch(/function \w\(\w\) \{\n\s+for \(let \w of \w\) console\.error\(\w\);\n\s+return \w\.length;\n\}/);
    expect(code).not.toContain('members');
    await expect(runBundled(source, esbuildOptions())).resolves.toBe('grantToFamily');
  });

  it('leaves @aws-sdk/* and @smithy/* to the Lambda runtime unless told to bundle them', () => {
    expect(lambdaBundling().externalModules).toEqual(['@aws-sdk/*', '@smithy/*']);
    expect(esbuildOptions().external).toEqual(['@aws-sdk/*', '@smithy/*']);
    expect(lambdaBundling({ bundleAwsSdk: true }).externalModules).toEqual([]);
    expect(esbuildOptions({ bundleAwsSdk: true }).external).toEqual([]);
  });

  it('ships node modules beside the bundle only when asked', () => {
    expect(lambdaBundling().nodeModules).toBeUndefined();
    expect(lambdaBundling({ nodeModules: ['@grpc/grpc-js'] }).nodeModules).toEqual(['@grpc/grpc-js']);
  });

  it('imports node:http so that Node does not load undici, which a plain ESM bundle does', async () => {
    const { alias: _alias, ...withoutAlias } = esbuildOptions();

    await expect(runBundled(IMPORTS_NODE_HTTP, esbuildOptions())).resolves.toEqual({ status: 'OK', undici: false });
    await expect(runBundled(IMPORTS_NODE_HTTP, withoutAlias)).resolves.toEqual({ status: 'OK', undici: true });
  });
});
