// `cdk synth` exactly as a user runs it from the project root: the CLI, cdk.json's app command
// (tsx on the project's Node 24), cdk-nag as a synthesis plugin, and real esbuild bundles. This is
// the only test that bundles; it is the slow one.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(ROOT, 'node_modules', '.bin');
/**
 * Where synth writes, inside the project: the bundles import the AWS SDK, which Lambda's runtime
 * provides, and here they find it in the project's node_modules (ES modules ignore `NODE_PATH`).
 */
const OUTPUT_PARENT = join(ROOT, 'node_modules', '.cache');
const HANDLERS = ['payment-webhook', 'grant-entitlements', 'get-user-info', 'mesh-health'];
const missing = HANDLERS.map((name) => `functions/${name}/handler.ts`).filter((entry) => !existsSync(join(ROOT, entry)));
if (missing.length > 0) {
  console.warn(`cdk synth test skipped until these handlers land: ${missing.join(', ')}`);
}

/**
 * What deploy will resolve but synth cannot know, as a function would receive it. A new variable
 * that is a CloudFormation reference must be added here, or the bundle test fails naming it.
 */
const DEPLOY_TIME_VALUES: Record<string, string> = {
  QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/111122223333/entitlements',
  ENTITLEMENTS_TABLE: 'entitlements',
  MESH_STATE_TABLE: 'mesh-state',
  GRANT_EVENT_SOURCE_MAPPING_ID: '6f0b5a4e-2c1d-4b7a-9e3f-0a1b2c3d4e5f',
};

interface LambdaResource {
  Properties: { Code: { S3Key: string }; Environment: { Variables: Record<string, unknown> } };
}

const run = promisify(execFile);
let outdir: string;
let exit: { code: number; output: string };

beforeAll(async () => {
  if (missing.length > 0) return;
  mkdirSync(OUTPUT_PARENT, { recursive: true });
  outdir = mkdtempSync(join(OUTPUT_PARENT, 'cdk-synth-'));
  try {
    const { stdout, stderr } = await run(join(BIN, 'cdk'), ['synth', '--no-notices', '-q', '--output', outdir], {
      cwd: ROOT,
      env: { ...process.env, PATH: `${BIN}:${process.env.PATH ?? ''}`, CDK_DISABLE_CLI_TELEMETRY: 'true' },
      timeout: 150_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    exit = { code: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    exit = { code: failed.code ?? -1, output: `${failed.stdout ?? ''}${failed.stderr ?? ''}` };
  }
}, 180_000);

afterAll(() => {
  if (outdir !== undefined) rmSync(outdir, { recursive: true, force: true });
});

/** The Lambda functions of the synthesised functions stack by `POWERTOOLS_SERVICE_NAME`. */
function functions(): Record<string, LambdaResource> {
  const template = JSON.parse(readFileSync(join(outdir, 'PaymentFunctions.template.json'), 'utf8'));
  return Object.fromEntries(
    Object.values(template.Resources as Record<string, LambdaResource & { Type: string }>)
      .filter((r) => r.Type === 'AWS::Lambda::Function')
      .map((r) => [r.Properties.Environment.Variables.POWERTOOLS_SERVICE_NAME, r]),
  );
}

/** The bundle directory of a function: its asset, named after the hash in its S3 key. */
function bundleOf(fn: LambdaResource): string {
  return join(outdir, `asset.${fn.Properties.Code.S3Key.replace(/\.zip$/, '')}`);
}

/** The files a function's bundle was built from, as its source map names them. */
function sourcesOf(fn: LambdaResource): string[] {
  return (JSON.parse(readFileSync(join(bundleOf(fn), 'index.mjs.map'), 'utf8')) as { sources: string[] }).sources;
}

/** The SDK packages the functions may import from the runtime: clients every Node.js runtime carries. */
const RUNTIME_SDK_PACKAGES = new Set([
  '@aws-sdk/client-dynamodb',
  '@aws-sdk/client-lambda',
  '@aws-sdk/client-secrets-manager',
  '@aws-sdk/client-servicediscovery',
  '@aws-sdk/client-sqs',
]);

describe.skipIf(missing.length > 0)('cdk synth from the project root', () => {
  it('exits 0, with no unacknowledged cdk-nag finding', () => {
    expect(exit.code, exit.output).toBe(0);
    expect(exit.output).not.toMatch(/AwsSolutions-|Synthesis finished with errors/);
  });

  it('prints no construct warning: each is fixed or acknowledged in code', () => {
    expect(exit.output).not.toMatch(/^WARNING /m);
  });

  it('writes both stacks\' templates', () => {
    expect(readdirSync(outdir)).toEqual(expect.arrayContaining(['PaymentFunctions.template.json', 'PaymentFunctions-data.template.json']));
  });

  it('bundles each function as one ESM file, minified but for its line breaks, with a require shim and its source map', () => {
    expect(Object.keys(functions()).sort()).toEqual([...HANDLERS].sort());
    for (const fn of Object.values(functions())) {
      const dir = bundleOf(fn);
      expect(readdirSync(dir).sort()).toEqual(['index.mjs', 'index.mjs.map']);
      const code = readFileSync(join(dir, 'index.mjs'), 'utf8');
      expect(code.startsWith("import { createRequire as __meshFunctionCreateRequire } from 'node:module';")).toBe(true);
      expect(code).toMatch(/\/\/# sourceMappingURL=index\.mjs\.map\s*$/);
      // Line breaks kept (a stack trace's line is one statement), identifiers minified: short lines,
      // and none of the mesh layer's local names.
      expect(code.split('\n').length).toBeGreaterThan(code.length / 100);
      expect(code).not.toMatch(/\bconst remainingTimeMs\b/);
    }
  });

  it('leaves the AWS SDK to the Lambda runtime and yaml out, importing only SDK packages the runtime carries', () => {
    for (const [service, fn] of Object.entries(functions())) {
      const sources = sourcesOf(fn);
      expect(sources.filter((source) => /node_modules\/(@aws-sdk|@smithy|yaml)\//.test(source)), service).toEqual([]);
      const code = readFileSync(join(bundleOf(fn), 'index.mjs'), 'utf8');
      // Static (`from "…"`) and dynamic (`import("…")`): the clients loaded on first use count too.
      const sdkImports = new Set([...code.matchAll(/(?:from\s*|import\(\s*)"(@aws-sdk\/[^"]+)"/g)].map((match) => match[1]));
      expect(sdkImports.size, service).toBeGreaterThan(0);
      expect([...sdkImports].filter((name) => !RUNTIME_SDK_PACKAGES.has(name!)), service).toEqual([]);
    }
  });

  // Its namespace would make Node load undici (see cdk/bundling/node-http.cjs); whatever a bundle
  // needs of node:http comes through CommonJS.
  it('never imports node:http as an ES module', () => {
    for (const [service, fn] of Object.entries(functions())) {
      const code = readFileSync(join(bundleOf(fn), 'index.mjs'), 'utf8');
      expect(code, service).not.toMatch(/from\s*"node:http"/);
    }
  });

  // Four Node processes, one per bundle: run them side by side.
  it.concurrent.each(HANDLERS)('the %s bundle initialises with the environment its template gives it', async (service) => {
    const fn = functions()[service];
    expect(fn, `no function ${service}`).toBeDefined();
    const env: Record<string, string> = {};
    for (const [name, value] of Object.entries(fn?.Properties.Environment.Variables ?? {})) {
      const resolved = typeof value === 'string' ? value : DEPLOY_TIME_VALUES[name];
      expect(resolved, `${name} is a deploy-time reference with no stand-in in DEPLOY_TIME_VALUES`).toBeDefined();
      env[name] = resolved ?? '';
    }
    const bundle = join(bundleOf(fn as LambdaResource), 'index.mjs');
    // Module scope runs here: configuration is read and validated exactly as at a cold start.
    const { stdout } = await run(join(BIN, 'node'), ['--input-type=module', '-e', `const m = await import(${JSON.stringify(bundle)}); console.log(typeof m.handler);`], {
      env: { PATH: process.env.PATH ?? '', AWS_REGION: 'eu-west-1', ...env },
      timeout: 30_000,
    });
    expect(stdout.trim()).toBe('function');
  });
});
