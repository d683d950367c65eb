import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { XdsBootstrapError, xdsBootstrapFromEnv } from '../../../shared/discovery/xds-bootstrap.js';
import { ConfigError } from '../../../shared/errors.js';

const BOOTSTRAP = {
  xds_servers: [{ server_uri: '127.0.0.1:18000', channel_creds: [{ type: 'insecure' }] }],
  node: { id: 'payment-functions~local', locality: { zone: 'local' } },
};
let dir: string;
let bootstrapFile: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'xds-bootstrap-'));
  bootstrapFile = join(dir, 'bootstrap.json');
  await writeFile(bootstrapFile, JSON.stringify({ ...BOOTSTRAP, xds_servers: [{ ...BOOTSTRAP.xds_servers[0], server_uri: 'istiod.istio-system:15010' }] }));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function errorOf(fn: () => unknown): XdsBootstrapError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(XdsBootstrapError);
    return error as XdsBootstrapError;
  }
  throw new Error('expected an XdsBootstrapError');
}

describe('xdsBootstrapFromEnv', () => {
  it('names both variables when neither is set, as a ConfigError', () => {
    const error = errorOf(() => xdsBootstrapFromEnv({}));

    expect(error).toBeInstanceOf(ConfigError);
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.variable).toBeUndefined();
    expect(error.message).toBe(
      'GRPC_XDS_BOOTSTRAP (a bootstrap file) or GRPC_XDS_BOOTSTRAP_CONFIG (its JSON) must be set when SERVICE_MESH_DISCOVERY_SCHEME is xds: ' +
        "gRPC's xDS client finds its control plane there, got neither",
    );
  });

  it('treats empty values as unset, as gRPC does', () => {
    expect(errorOf(() => xdsBootstrapFromEnv({ GRPC_XDS_BOOTSTRAP: '', GRPC_XDS_BOOTSTRAP_CONFIG: '' })).variable).toBeUndefined();
  });

  it('reads GRPC_XDS_BOOTSTRAP_CONFIG', () => {
    expect(xdsBootstrapFromEnv({ GRPC_XDS_BOOTSTRAP_CONFIG: JSON.stringify(BOOTSTRAP) })).toEqual({
      variable: 'GRPC_XDS_BOOTSTRAP_CONFIG',
      serverUris: ['127.0.0.1:18000'],
    });
  });

  it('prefers the file named by GRPC_XDS_BOOTSTRAP, as gRPC does', () => {
    expect(xdsBootstrapFromEnv({ GRPC_XDS_BOOTSTRAP: bootstrapFile, GRPC_XDS_BOOTSTRAP_CONFIG: JSON.stringify(BOOTSTRAP) })).toEqual({
      variable: 'GRPC_XDS_BOOTSTRAP',
      serverUris: ['istiod.istio-system:15010'],
    });
  });

  it('rejects a bootstrap file that cannot be read, naming the variable and the path', () => {
    const missing = join(dir, 'missing.json');
    const error = errorOf(() => xdsBootstrapFromEnv({ GRPC_XDS_BOOTSTRAP: missing }));

    expect(error.code).toBe('CONFIG_FILE_UNREADABLE');
    expect(error.variable).toBe('GRPC_XDS_BOOTSTRAP');
    expect(error.message).toContain(`GRPC_XDS_BOOTSTRAP names an xDS bootstrap file that cannot be read: ${missing} (ENOENT`);
  });

  it.each([
    ['not JSON', '{"xds_servers": [', 'it is not JSON ('],
    ['not an object', '[]', 'it must be a JSON object'],
    ['without control planes', JSON.stringify({ ...BOOTSTRAP, xds_servers: [] }), 'xds_servers must list at least one control plane'],
    ['without a node', JSON.stringify({ xds_servers: BOOTSTRAP.xds_servers }), 'node must be an object with an id and a locality'],
    // From grpc-js-xds's own validation: what its xDS client would refuse later.
    ['with a node without a locality', JSON.stringify({ ...BOOTSTRAP, node: { id: 'x' } }), 'locality field missing in node element'],
    [
      'with only unsupported channel credentials',
      JSON.stringify({ ...BOOTSTRAP, xds_servers: [{ server_uri: '127.0.0.1:18000', channel_creds: [{ type: 'tls' }] }] }),
      'xds_servers.channel_creds field: must contain at least one entry with a type in [google_default,insecure]',
    ],
  ])('rejects a bootstrap %s, naming the variable', (_, value, reason) => {
    const error = errorOf(() => xdsBootstrapFromEnv({ GRPC_XDS_BOOTSTRAP_CONFIG: value }));

    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.variable).toBe('GRPC_XDS_BOOTSTRAP_CONFIG');
    expect(error.message).toContain(`GRPC_XDS_BOOTSTRAP_CONFIG is not a valid xDS bootstrap: ${reason}`);
  });
});
