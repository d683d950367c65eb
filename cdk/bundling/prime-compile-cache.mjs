/**
 * Primes V8's compile cache for the ES module bundles in a directory, as Lambda's Node will look
 * for it: `node prime-compile-cache.mjs <dir> [<bundle.mjs> …]` (every `*.mjs` in `<dir>` when
 * none is named) writes `<dir>/.node-compile-cache/v<node>-<arch>-<V8 flags>-0/`.
 *
 * Plain JavaScript because CDK runs it as a bundling command, outside any TypeScript loader.
 *
 * Each bundle is compiled, never run: a throwaway module imports it and a name `node:module` does
 * not export, so linking fails after every module of the graph was compiled (and its code cache
 * kept) and before any of them is evaluated (the bundle's top level reads its configuration and
 * may open connections). The paths are stored relative to the cache (`NODE_COMPILE_CACHE_PORTABLE`),
 * so the cache still applies once the asset is unpacked in `/var/task`; it is built with Lambda's
 * V8 flag (`--expose-gc`, from the runtime's bootstrap), which V8 keys its code cache by.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

export const COMPILE_CACHE_DIR = '.node-compile-cache';
// `--expose-gc` is Lambda's (V8 keys its cache by its flags); `--random-seed` is not in that key
// and makes the cache the same bytes at every synth, so the asset's hash only changes with the code.
const PRIMER_V8_FLAGS = ['--expose-gc', '--random-seed=1'];
/** The throwaway module of one bundle: its own name, so that each adds an entry of its own. */
const primerOf = (bundle) => `.prime-compile-cache-${bundle}`;

/**
 * Primes the cache of `bundles` (file names in `dir`).
 *
 * @throws when a bundle left no cache entry behind, with what Node printed.
 */
export function primeCompileCache(dir, bundles = readdirSync(dir).filter((name) => name.endsWith('.mjs') && !name.startsWith('.prime-compile-cache-'))) {
  const cache = join(resolve(dir), COMPILE_CACHE_DIR);
  for (const bundle of bundles) {
    const before = entries(cache);
    const primer = primerOf(bundle);
    writeFileSync(join(dir, primer), `import './${bundle}';\nimport { compileCachePrimerStopsHere } from 'node:module';\n`);
    let result;
    try {
      result = spawnSync(process.execPath, [...PRIMER_V8_FLAGS, primer], {
        cwd: dir,
        encoding: 'utf8',
        env: { PATH: process.env.PATH ?? '', NODE_COMPILE_CACHE: cache, NODE_COMPILE_CACHE_PORTABLE: '1' },
      });
    } finally {
      rmSync(join(dir, primer), { force: true });
    }
    // The primer's own entry (a few hundred bytes, left in the cache) and the bundle's: fewer means
    // the bundle was never compiled.
    if (entries(cache) < before + 2) {
      throw new Error(`no compile cache was written for ${join(dir, bundle)}: ${result.error?.message ?? result.stderr.slice(-2000)}`);
    }
  }
}

function entries(cache) {
  try {
    return readdirSync(cache, { recursive: true }).length;
  } catch {
    return 0;
  }
}

// Run as a command (CDK's bundling hook), not when imported.
if (import.meta.url === pathToFileURL(resolve(process.argv[1] ?? '')).href) {
  const [dir, ...bundles] = process.argv.slice(2);
  if (!dir) {
    process.stderr.write('usage: node prime-compile-cache.mjs <dir> [<bundle.mjs> …]\n');
    process.exit(2);
  }
  primeCompileCache(dir, bundles.length > 0 ? bundles : undefined);
}
