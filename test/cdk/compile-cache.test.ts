// The compile cache `compileCache` ships: primed by the CDK bundling hook's script on a real
// bundle, then read by a fresh Node from another directory, as Lambda reads it from /var/task.
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMPILE_CACHE_DIR, compileCacheEnvironment, compileCacheHooks } from '../../cdk/bundling/compile-cache.js';
import { esbuildOptions } from '../../cdk/bundling/function-bundling.js';

const run = promisify(execFile);
let dir: string;
let asset: string;

/**
 * A handler whose top level leaves a mark: priming must compile it, never run it. It imports the
 * runtime's SDK, which an asset directory cannot resolve, as most functions do at init.
 */
const HANDLER = `
import { writeFileSync } from 'node:fs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
export const client = () => new DynamoDBClient({});
writeFileSync(new URL('./evaluated', import.meta.url), 'the bundle ran');
export async function handler() {
  return { ok: true };
}
`;

/** Runs the command CDK's hook gives for `outputDir`, as CDK runs it (a shell, locally). */
async function prime(outputDir: string): Promise<void> {
  const [command] = compileCacheHooks().afterBundling('/unused', outputDir);
  await run('bash', ['-c', command!]);
}

/** The cache's files, relative to it. */
async function cacheFiles(assetDir: string): Promise<string[]> {
  return (await readdir(join(assetDir, COMPILE_CACHE_DIR), { recursive: true })).sort();
}

/** Imports `index.mjs` in a fresh Node with `args`, returning what Node says of its compile cache. */
async function importWithCache(assetDir: string, args: string[]): Promise<string> {
  // The import itself fails here (no runtime SDK to resolve): Node has compiled the bundle by then.
  const script = `await import(${JSON.stringify(join(assetDir, 'index.mjs'))}).catch(() => {});`;
  const { stderr } = await run(process.execPath, [...args, '--input-type=module', '-e', script], {
    env: { PATH: process.env.PATH ?? '', NODE_DEBUG_NATIVE: 'COMPILE_CACHE', ...compileCacheEnvironment(assetDir) },
  });
  return stderr;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'compile-cache-'));
  asset = join(dir, 'asset-output');
  await build({ ...esbuildOptions(), stdin: { contents: HANDLER, loader: 'ts', resolveDir: dir }, outfile: join(asset, 'index.mjs') });
  await prime(asset);
});

afterAll(() => rm(dir, { recursive: true, force: true }));

describe('the compile cache primed at bundling', () => {
  it('is written for this Node and architecture without ever running the bundle', async () => {
    const files = await cacheFiles(asset);

    expect(files.filter((file) => !file.includes('/'))).toEqual([expect.stringMatching(new RegExp(`^${process.version}-${process.arch}-[0-9a-f]+-0$`))]);
    expect(files.filter((file) => file.includes('/')).length).toBeGreaterThanOrEqual(1);
    expect((await readdir(asset)).sort()).toEqual([COMPILE_CACHE_DIR, 'index.mjs', 'index.mjs.map']);
  });

  // CDK bundles into `cdk.out/bundling-temp-<source hash>`: the same directory at every synth of a
  // checkout. (From another checkout's path a few bytes differ.)
  it('is the same bytes when the same code is bundled again, so the asset hash changes only with the code', async () => {
    const files = (await cacheFiles(asset)).filter((file) => file.includes('/'));
    const first = await Promise.all(files.map((file) => readFile(join(asset, COMPILE_CACHE_DIR, file))));
    await rm(join(asset, COMPILE_CACHE_DIR), { recursive: true });
    await prime(asset);

    expect((await cacheFiles(asset)).filter((file) => file.includes('/'))).toEqual(files);
    const second = await Promise.all(files.map((file) => readFile(join(asset, COMPILE_CACHE_DIR, file))));
    files.forEach((file, i) => expect(Buffer.compare(first[i]!, second[i]!), file).toBe(0));
  });

  it('is accepted by Node started as Lambda starts it, from wherever the asset is unpacked', async () => {
    const task = join(dir, 'var-task');
    await cp(asset, task, { recursive: true });

    const said = await importWithCache(task, ['--expose-gc', '--max-http-header-size', '81920']);
    expect(said).toContain(`V8 code cache for ESM file://${join(task, 'index.mjs')} was accepted`);
  });

  it('covers every bundle named when one directory holds several', async () => {
    const several = join(dir, 'several');
    for (const name of ['first', 'second']) {
      await build({ ...esbuildOptions(), stdin: { contents: `${HANDLER}\nexport const name = '${name}';`, loader: 'ts', resolveDir: dir }, outfile: join(several, `${name}.mjs`) });
    }
    await run(process.execPath, [join(import.meta.dirname, '../../cdk/bundling/prime-compile-cache.mjs'), several, 'first.mjs', 'second.mjs']);

    for (const name of ['first', 'second']) {
      const script = `await import(${JSON.stringify(join(several, `${name}.mjs`))}).catch(() => {});`;
      const { stderr } = await run(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], {
        env: { PATH: process.env.PATH ?? '', NODE_DEBUG_NATIVE: 'COMPILE_CACHE', ...compileCacheEnvironment(several) },
      });
      expect(stderr, name).toContain(`V8 code cache for ESM file://${join(several, `${name}.mjs`)} was accepted`);
    }
  });

  it('is not used by a Node whose V8 flags differ: the cache is keyed by them', async () => {
    const task = join(dir, 'other-flags');
    await cp(asset, task, { recursive: true });

    const said = await importWithCache(task, []);
    expect(said).not.toContain('was accepted');
    expect(said).toMatch(/no such file or directory/);
  });
});
