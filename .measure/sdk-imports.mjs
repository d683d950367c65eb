// Builds the handlers as test/bench/bundles.ts does (esbuildOptions, no maps) into <outdir> and
// prints which @aws-sdk modules each bundle imports statically vs dynamically (metafile imports).
import { build } from 'esbuild';
import { register } from 'node:module';
const [outdir] = process.argv.slice(2);
const { esbuildOptions } = await import('../cdk/bundling/function-bundling.ts');
const entries = {
  'bench-function': 'test/bench/mesh-handler.ts',
  'get-user-info': 'functions/get-user-info/handler.ts',
  'grant-entitlements': 'functions/grant-entitlements/handler.ts',
  'mesh-health': 'functions/mesh-health/handler.ts',
  'payment-webhook': 'functions/payment-webhook/handler.ts',
};
const result = await build({ ...esbuildOptions(), sourcemap: false, outExtension: { '.js': '.mjs' }, metafile: true, logLevel: 'error', outdir, entryPoints: entries });
for (const [path, out] of Object.entries(result.metafile.outputs)) {
  if (!path.endsWith('.mjs')) continue;
  const sdk = out.imports.filter((i) => i.path.startsWith('@aws-sdk/'));
  const by = (kind) => [...new Set(sdk.filter((i) => i.kind === kind).map((i) => i.path.replace('@aws-sdk/', '')))].sort().join(', ') || '-';
  console.log(`${path.split('/').pop().padEnd(24)} static: ${by('import-statement')} | dynamic: ${by('dynamic-import')}`);
}
