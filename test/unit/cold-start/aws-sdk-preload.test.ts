import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { meshSdkClients } from '../../../shared/cold-start/aws-sdk-preload.js';
import { loadMeshConfig } from '../../../shared/config/load-mesh-config.js';

const MESH = {
  SERVICE_MESH_SPIFFE_ID: 'spiffe://jia.app/payment-functions',
  SERVICE_MESH_DISCOVERY_NAMESPACE: 'mesh.jia.app',
  EXTERNAL_SERVICES_CONTACT_SERVICE_NAME: 'contact-service',
  EXTERNAL_SERVICES_CONTACT_SERVICE_SPIFFE_ID: 'spiffe://jia.app/contact-service',
  SVID_SECRET_ID: 'spire/payment-functions',
};

describe('meshSdkClients', () => {
  it('names Secrets Manager and Cloud Map for the deployed default: the SVID through the SDK, Cloud Map first', () => {
    expect(meshSdkClients(loadMeshConfig(MESH))).toEqual(['client-secrets-manager', 'client-servicediscovery']);
  });

  it('adds DynamoDB when the fleet shares its breakers: the first call reads them', () => {
    expect(meshSdkClients(loadMeshConfig({ ...MESH, MESH_STATE_TABLE: 'mesh-state' }))).toContain('client-dynamodb');
    expect(meshSdkClients(loadMeshConfig({ ...MESH, MESH_STATE_TABLE: 'mesh-state', CIRCUIT_BREAKER_SHARED: 'false' }))).not.toContain('client-dynamodb');
  });

  it('names none with the secrets extension and DNS first, as with files and static addresses', () => {
    expect(meshSdkClients(loadMeshConfig({ ...MESH, SECRETS_MANAGER_ACCESS: 'extension', SERVICE_MESH_DISCOVERY_DNS_FIRST: 'true' }))).toEqual([]);
    const { SVID_SECRET_ID: _, ...local } = MESH;
    expect(meshSdkClients(loadMeshConfig({ ...local, SVID_DIR: '/run/spiffe', SERVICE_MESH_DISCOVERY_SCHEME: 'static', EXTERNAL_SERVICES_CONTACT_SERVICE_ADDRESS: '127.0.0.1:50051' }))).toEqual([]);
  });
});

describe('preloadAwsSdk', () => {
  it('loads exactly the clients named, and nothing of the others', async () => {
    const script = `
      import { createRequire } from 'node:module';
      import { preloadAwsSdk } from ${JSON.stringify(new URL('../../../shared/cold-start/aws-sdk-preload.ts', import.meta.url).href)};
      await preloadAwsSdk(['client-sqs', 'client-servicediscovery']);
      const loaded = Object.keys(createRequire(import.meta.url).cache).map((path) => /@aws-sdk\\/(client-[a-z-]+)\\//.exec(path)?.[1]).filter(Boolean);
      console.log(JSON.stringify([...new Set(loaded)].sort()));`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: process.cwd() });

    expect(JSON.parse(stdout)).toEqual(['client-servicediscovery', 'client-sqs']);
  });
});
