import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { esbuildOptions } from '../../../cdk/bundling/function-bundling.js';
import { loadMeshConfig } from '../../../shared/config/index.js';
import { ConfigError } from '../../../shared/errors.js';
import { parseSpiffeId } from '../../../shared/spiffe/spiffe-id.js';

/** The mesh's config.yaml, as DESIGN.md shapes it. */
const MESH_YAML = `
service_mesh:
  enabled: true
  spiffe_id: spiffe://jia.app/payment-functions
  discovery: { namespace: mesh.local, scheme: cloudmap, dns_servers: "127.0.0.1:5353", ttl_seconds: 30 }
mtls: { enabled: true }
svid: { secret_id: payment-functions-svid, dir: /var/run/svid }
external_services:
  contact_service:
    name: contact-service
    address: 127.0.0.1:50051
    spiffe_id: spiffe://jia.app/contact-service
    timeout_seconds: 10
    max_concurrent_calls: 16
circuit_breaker: { failure_threshold: 5, success_threshold: 2, timeout_seconds: 60, half_open_max_calls: 3 }
logging: { level: debug }   # another component's section: not ours, ignored
`;

let dir: string;
let counter = 0;

/** Writes `text` to a fresh file in the test's temporary directory and returns its path. */
async function yamlFile(text: string): Promise<string> {
  const path = join(dir, `config-${++counter}.yaml`);
  await writeFile(path, text);
  return path;
}

function configError(env: NodeJS.ProcessEnv): ConfigError {
  try {
    loadMeshConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected loadMeshConfig to throw a ConfigError');
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mesh-config-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('loadMeshConfig from a YAML file', () => {
  it('reads the mesh config.yaml alone', async () => {
    const config = loadMeshConfig({ CONFIG_FILE: await yamlFile(MESH_YAML) });
    const { services, ...rest } = config;
    expect(rest).toEqual({
      enabled: true,
      spiffeId: parseSpiffeId('spiffe://jia.app/payment-functions'),
      mtlsEnabled: true,
      discovery: {
        namespace: 'mesh.local',
        scheme: 'cloudmap',
        dnsFirst: false,
        order: ['cloudmap', 'dns', 'static'],
        dnsServers: ['127.0.0.1:5353'],
        ttlSeconds: 30,
      },
      svid: { secretId: 'payment-functions-svid', dir: '/var/run/svid' },
      circuitBreaker: { failureThreshold: 5, successThreshold: 2, timeoutSeconds: 60, halfOpenMaxCalls: 3 },
    });
    expect(services['contact-service']).toMatchObject({
      key: 'CONTACT_SERVICE',
      address: { host: '127.0.0.1', port: 50051 },
      spiffeId: 'spiffe://jia.app/contact-service',
      timeoutSeconds: 10,
      maxConcurrentCalls: 16,
    });
  });

  it('lets the environment win over the file, key by key', async () => {
    const config = loadMeshConfig({
      CONFIG_FILE: await yamlFile(MESH_YAML),
      MTLS_ENABLED: 'false',
      SERVICE_MESH_DISCOVERY_SCHEME: 'dns',
      EXTERNAL_SERVICES_CONTACT_SERVICE_ADDRESS: '10.0.0.7:443',
    });
    expect(config.mtlsEnabled).toBe(false);
    expect(config.discovery).toMatchObject({ scheme: 'dns', namespace: 'mesh.local' });
    expect(config.services['contact-service']).toMatchObject({
      address: { host: '10.0.0.7', port: 443 },
      timeoutSeconds: 10,
    });
  });

  it('joins services from the file and the environment', async () => {
    const config = loadMeshConfig({
      CONFIG_FILE: await yamlFile(MESH_YAML),
      EXTERNAL_SERVICES_LEDGER_ADDRESS: '127.0.0.1:50052',
    });
    expect(Object.keys(config.services).sort()).toEqual(['contact-service', 'ledger']);
    expect(config.services['ledger']?.spiffeId).toBe('spiffe://jia.app/ledger');
  });

  it('accepts YAML lists, per-service breakers and dashed service keys', async () => {
    const path = await yamlFile(`
service_mesh:
  spiffe_id: spiffe://jia.app/payment-functions
  discovery: { dns_servers: ["127.0.0.1:5353", "::1"] }
external_services:
  ledger-service:
    spiffe_id: [spiffe://jia.app/ledger, spiffe://jia.app/ledger-canary]
    circuit_breaker: { failure_threshold: 2 }
`);
    const config = loadMeshConfig({ CONFIG_FILE: path });
    expect(config.discovery.dnsServers).toEqual(['127.0.0.1:5353', '::1']);
    const ledger = config.services['ledger-service'];
    expect(ledger).toMatchObject({ key: 'LEDGER_SERVICE', circuitBreaker: { failureThreshold: 2, timeoutSeconds: 60 } });
    expect(() => ledger?.authorize(parseSpiffeId('spiffe://jia.app/ledger-canary'))).not.toThrow();
    expect(() => ledger?.authorize(parseSpiffeId('spiffe://jia.app/other'))).toThrow();
  });

  it('reads an empty file as no settings', async () => {
    expect(loadMeshConfig({ CONFIG_FILE: await yamlFile('') })).toEqual(loadMeshConfig({}));
  });
});

describe('${VAR} interpolation', () => {
  const yaml = `
service_mesh:
  spiffe_id: spiffe://\${TRUST_DOMAIN}/payment-functions
  discovery: { namespace: "\${MESH_NAMESPACE:-mesh.local}", ttl_seconds: "\${TTL:-45}" }
svid: { secret_id: "price-$$-\${STAGE}" }
external_services:
  contact_service:
    address: \${CONTACT_HOST:-127.0.0.1}:\${CONTACT_PORT}
`;
  const env = { TRUST_DOMAIN: 'jia.app', STAGE: 'prod', CONTACT_PORT: '50051' };

  it.each([
    ['set variables and unset defaults', {}, 'mesh.local', 45, '127.0.0.1'],
    ['variables over defaults', { MESH_NAMESPACE: 'prod.local', TTL: '5', CONTACT_HOST: '10.0.0.1' }, 'prod.local', 5, '10.0.0.1'],
    ['defaults for empty variables', { MESH_NAMESPACE: '', CONTACT_HOST: '' }, 'mesh.local', 45, '127.0.0.1'],
  ])('expands %s', async (_case, extra, namespace, ttl, host) => {
    const config = loadMeshConfig({ CONFIG_FILE: await yamlFile(yaml), ...env, ...extra });
    expect(config.spiffeId?.toString()).toBe('spiffe://jia.app/payment-functions');
    expect(config.discovery.namespace).toBe(namespace);
    expect(config.discovery.ttlSeconds).toBe(ttl);
    expect(config.svid.secretId).toBe('price-$-prod');
    expect(config.services['contact-service']?.address).toEqual({ host, port: 50051 });
  });

  it('fails naming every unset variable and the key using it', async () => {
    const path = await yamlFile(yaml);
    const error = configError({ CONFIG_FILE: path, TRUST_DOMAIN: 'jia.app' });
    expect(error.code).toBe('CONFIG_INTERPOLATION');
    expect(error.message).toContain(`svid.secret_id in ${path}: variable STAGE is not set and has no default`);
    expect(error.message).toContain(
      `external_services.contact_service.address in ${path}: variable CONTACT_PORT is not set and has no default`,
    );
  });

  it('rejects a malformed reference', async () => {
    const error = configError({ CONFIG_FILE: await yamlFile('svid: { dir: "/run/${SVID DIR}" }') });
    expect(error.code).toBe('CONFIG_INTERPOLATION');
    expect(error.message).toContain('svid.dir in');
    expect(error.message).toContain('reference ${SVID DIR} must be ${NAME} or ${NAME:-default}');
  });

  it('interpolates file values only, never environment values', () => {
    expect(loadMeshConfig({ SVID_DIR: '${HOME}' }).svid.dir).toBe('${HOME}');
  });
});

describe('loadMeshConfig rejects a bad file', () => {
  it('fails naming a missing file', () => {
    const path = join(tmpdir(), 'mesh-config-does-not-exist', 'config.yaml');
    const error = configError({ CONFIG_FILE: path });
    expect(error.code).toBe('CONFIG_FILE_UNREADABLE');
    expect(error.message).toBe(`config file cannot be read: ${path} (ENOENT)`);
    expect(error.cause).toBeInstanceOf(Error);
  });

  it('fails naming a path that is a directory', () => {
    const error = configError({ CONFIG_FILE: dir });
    expect(error.code).toBe('CONFIG_FILE_UNREADABLE');
    expect(error.message).toContain(dir);
  });

  it('fails naming CONFIG_FILE and what to do when the function is bundled without yaml', async () => {
    // As deployed: bundled like every function and run where no node_modules holds yaml.
    const { metafile, outputFiles } = await build({
      ...esbuildOptions(),
      sourcemap: false,
      metafile: true,
      write: false,
      outdir: dir,
      absWorkingDir: fileURLToPath(new URL('../../../', import.meta.url)),
      stdin: {
        contents: `
          import { loadMeshConfig } from './shared/config/index.js';
          try { loadMeshConfig({ CONFIG_FILE: process.argv[2] }); } catch (e) { console.log(JSON.stringify({ name: e.name, code: e.code, message: e.message })); }`,
        loader: 'ts',
        resolveDir: fileURLToPath(new URL('../../../', import.meta.url)),
      },
    });
    const bundle = join(dir, 'without-yaml.mjs');
    await writeFile(bundle, outputFiles[0]!.text);
    const path = await yamlFile(MESH_YAML);

    const { stdout } = await promisify(execFile)(process.execPath, [bundle, path], { env: { PATH: process.env.PATH ?? '' } });

    expect(Object.keys(metafile.inputs).filter((input) => input.includes('node_modules/yaml/'))).toEqual([]);
    expect(JSON.parse(stdout)).toEqual({
      name: 'ConfigError',
      code: 'CONFIG_FILE_UNSUPPORTED',
      message:
        `CONFIG_FILE names ${path}, but reading it needs the yaml package, which this build does not include: ` +
        'unset CONFIG_FILE and configure through environment variables, or ship yaml with the function (bundling nodeModules: ["yaml"])',
    });
  });

  it('reads service_mesh.discovery.dns_first, and names its YAML path when the scheme is not cloudmap', async () => {
    const dnsFirst = await yamlFile('service_mesh: { discovery: { namespace: mesh.local, dns_first: true } }');
    expect(loadMeshConfig({ CONFIG_FILE: dnsFirst }).discovery.order).toEqual(['dns', 'cloudmap', 'static']);

    const path = await yamlFile('service_mesh: { discovery: { namespace: mesh.local, scheme: dns, dns_first: true } }');
    const error = configError({ CONFIG_FILE: path });
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toContain(`service_mesh.discovery.dns_first in ${path} must be false unless SERVICE_MESH_DISCOVERY_SCHEME is cloudmap`);
    expect(error.message).toContain('got "true" with scheme "dns"');
  });

  it.each([
    ['not YAML', 'service_mesh: [unclosed', 'is not valid YAML'],
    ['not a mapping', '- a\n- b', 'must hold a mapping, got ["a","b"]'],
  ])('fails on a file that is %s', async (_case, text, rule) => {
    const path = await yamlFile(text);
    const error = configError({ CONFIG_FILE: path });
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toContain(`config file ${path} ${rule}`);
  });

  it.each([
    ['service_mesh: { discovery: { ttl_seconds: ten } }', 'service_mesh.discovery.ttl_seconds', 'must be a positive integer, got "ten"'],
    ['mtls: { enabled: maybe }', 'mtls.enabled', 'must be true, false, 1 or 0, got "maybe"'],
    [
      'external_services: { contact_service: { spiffe_id: spiffe://jia.app/c, timeout_seconds: -1 } }',
      'external_services.contact_service.timeout_seconds',
      'must be a positive number, got "-1"',
    ],
    ['service_mesh: { discovery: { ttl: 5 } }', 'service_mesh.discovery.ttl', 'is not a known setting'],
    [
      'external_services: { contact_service: { spiffe_id: spiffe://jia.app/c, timeout: 5 } }',
      'external_services.contact_service.timeout',
      'is not a known setting',
    ],
    ['svid: { dir: [ { a: 1 } ] }', 'svid.dir', 'must be a value or a list of values, got [{"a":1}]'],
  ])('names the YAML path and the value of %s', async (text, key, rule) => {
    const path = await yamlFile(text);
    const error = configError({ CONFIG_FILE: path });
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toContain(`${key} in ${path} ${rule}`);
  });
});
