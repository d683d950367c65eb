import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { esbuildOptions } from '../../../cdk/bundling/function-bundling.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SECRETS_CLIENT = '@aws-sdk/client-secrets-manager';

/** How each function's bundle, built as deployed, imports the Secrets Manager client: `import-statement` or `dynamic-import`. */
async function secretsClientImports(entry: string): Promise<string[]> {
  const result = await build({ ...esbuildOptions(), absWorkingDir: ROOT, entryPoints: [entry], outdir: 'out', write: false, metafile: true, sourcemap: false });
  return Object.values(result.metafile.outputs).flatMap((output) => output.imports.filter((i) => i.path === SECRETS_CLIENT).map((i) => i.kind));
}

describe('secretsManagerValue', () => {
  it.each([
    'functions/get-user-info/handler.ts',
    'functions/grant-entitlements/handler.ts',
    'functions/mesh-health/handler.ts',
    'functions/payment-webhook/handler.ts',
    'test/bench/mesh-handler.ts',
  ])('leaves the Secrets Manager client out of the init of %s: the bundle imports it only at the first read', async (entry) => {
    const kinds = await secretsClientImports(entry);

    expect(kinds.length).toBeGreaterThan(0);
    expect(kinds.filter((kind) => kind !== 'dynamic-import')).toEqual([]);
  });
});
