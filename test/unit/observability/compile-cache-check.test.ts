import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileCacheMiss } from '../../../shared/observability/compile-cache-check.js';

describe('compileCacheMiss', () => {
  it('says nothing when no compile cache is configured', () => {
    expect(compileCacheMiss({}, () => undefined)).toBeUndefined();
    expect(compileCacheMiss({ NODE_COMPILE_CACHE: '' }, () => undefined)).toBeUndefined();
  });

  it('says nothing when Node found or made the directory for its version', () => {
    expect(compileCacheMiss({ NODE_COMPILE_CACHE: '/var/task/.node-compile-cache' }, () => '/var/task/.node-compile-cache/v24.21.0-arm64-1c717fce-0')).toBeUndefined();
  });

  it('names the configured directory and this Node when Node could not use it', () => {
    expect(compileCacheMiss({ NODE_COMPILE_CACHE: '/var/task/.node-compile-cache' }, () => undefined)).toEqual({
      directory: '/var/task/.node-compile-cache',
      runtime: `${process.version} ${process.arch}`,
    });
  });

  describe('in a real Node process', () => {
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'compile-cache-check-'));
      await writeFile(join(dir, 'not-a-directory'), '');
    });
    afterAll(() => rm(dir, { recursive: true, force: true }));

    // Node cannot create its version's directory under a file, as under the read-only /var/task.
    it.each([
      ['a directory Node can use', 'cache', false],
      ['a path Node cannot create its version\'s directory in', 'not-a-directory/cache', true],
    ])('reports %s accordingly', async (_, cachePath, missed) => {
      const script = `import { compileCacheMiss } from ${JSON.stringify(new URL('../../../shared/observability/compile-cache-check.ts', import.meta.url).href)};
        console.log(JSON.stringify(compileCacheMiss() ?? null));`;
      const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        env: { PATH: process.env.PATH ?? '', NODE_COMPILE_CACHE: join(dir, cachePath) },
      });
      expect(JSON.parse(stdout) !== null).toBe(missed);
    });
  });
});
