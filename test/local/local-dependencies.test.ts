import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalSetupError, startLocalDependencies, type DependencyNeeds, type LocalDependencies } from './local-dependencies.js';

const EVERYTHING: DependencyNeeds = { webhook: true, queue: true, mesh: true, table: true };
const NOTHING: DependencyNeeds = { webhook: false, queue: false, mesh: false, table: false };

let localDir: string;
let started: LocalDependencies | undefined;
let lines: string[];

beforeEach(async () => {
  localDir = await mkdtemp(join(tmpdir(), 'local-deps-'));
  lines = [];
});

afterEach(async () => {
  await started?.close();
  started = undefined;
  await rm(localDir, { recursive: true, force: true });
});

const start = async (env: NodeJS.ProcessEnv, needs: Partial<DependencyNeeds>) => {
  started = await startLocalDependencies({ env, localDir, needs: { ...NOTHING, ...needs }, log: (line) => lines.push(line) });
  return started;
};

describe('startLocalDependencies', () => {
  it('starts everything locally and fills in only what the user left unset', async () => {
    // Prepare
    const env: NodeJS.ProcessEnv = { ENTITLEMENTS_TABLE: 'my-entitlements', EXTERNAL_SERVICES_CONTACT_SERVICE_TIMEOUT_SECONDS: '3' };

    // Act
    const deps = await start(env, EVERYTHING);

    // Assess
    expect(Object.keys(deps.added)).not.toContain('ENTITLEMENTS_TABLE');
    expect(env).toMatchObject({
      ENTITLEMENTS_TABLE: 'my-entitlements',
      EXTERNAL_SERVICES_CONTACT_SERVICE_TIMEOUT_SECONDS: '3',
      SERVICE_MESH_SPIFFE_ID: 'spiffe://jia.app/payment-functions',
      SERVICE_MESH_DISCOVERY_SCHEME: 'static',
      EXTERNAL_SERVICES_CONTACT_SERVICE_ADDRESS: deps.contactService!.address,
      EXTERNAL_SERVICES_CONTACT_SERVICE_SPIFFE_ID: 'spiffe://jia.app/contact-service',
      SVID_DIR: join(localDir, 'pki', 'payment-functions'),
      AWS_REGION: 'us-east-1',
    });
    expect(env.QUEUE_URL).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/000000000000\/entitlements$/);
    expect(env.WEBHOOK_SIGNING_SECRET).toMatch(/^whsec_/);
    const client = new DynamoDBClient({ endpoint: env.AWS_ENDPOINT_URL_DYNAMODB!, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    const table = await client.send(new DescribeTableCommand({ TableName: 'my-entitlements' }));
    client.destroy();
    expect(table.Table?.TableStatus).toBe('ACTIVE');
    expect(deps.batches?.description).toMatch(/^local queue entitlements/);
  });

  it('uses the user\'s queue and contact-service, and starts neither', async () => {
    const env: NodeJS.ProcessEnv = {
      QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/entitlements',
      EXTERNAL_SERVICES_CONTACT_SERVICE_ADDRESS: '10.0.0.7:8443',
      AWS_PROFILE: 'staging',
    };

    const deps = await start(env, { webhook: true, queue: true, mesh: true });

    expect(deps.contactService).toBeUndefined();
    expect(deps.batches?.description).toBe('queue https://sqs.eu-west-1.amazonaws.com/123456789012/entitlements');
    expect(env.EXTERNAL_SERVICES_CONTACT_SERVICE_ADDRESS).toBe('10.0.0.7:8443');
    expect(env.SERVICE_MESH_DISCOVERY_SCHEME).toBe('static');
    // A profile points at AWS: no dummy region or credentials may shadow it.
    expect(deps.added).not.toHaveProperty('AWS_ACCESS_KEY_ID');
    expect(deps.added).not.toHaveProperty('AWS_REGION');
    expect(lines).toContain('contact-service: 10.0.0.7:8443 (yours)');
  });

  it('adds no mesh defaults when a config file is the mesh configuration', async () => {
    const env: NodeJS.ProcessEnv = { CONFIG_FILE: '/etc/mesh/config.yaml', SVID_DIR: '/run/svid' };

    const deps = await start(env, { mesh: true });

    expect(Object.keys(deps.added).filter((k) => k.startsWith('SERVICE_MESH') || k.startsWith('EXTERNAL_SERVICES'))).toEqual([]);
    expect(deps.contactService).toBeUndefined();
  });

  it('keeps the local table and dummy credentials when the namespace is only a DNS domain (scheme dns)', async () => {
    // Prepare: the reproduction, a local DNS server resolving the mesh under jia.local.
    const env: NodeJS.ProcessEnv = { SERVICE_MESH_DISCOVERY_SCHEME: 'dns', SERVICE_MESH_DISCOVERY_NAMESPACE: 'jia.local' };

    // Act
    const deps = await start(env, { mesh: true, table: true });

    // Assess: nothing here reaches AWS, so the SDK gets a region and credentials for dynalite.
    expect(deps.added).toMatchObject({ AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local' });
    expect(env.AWS_ENDPOINT_URL_DYNAMODB).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(env.SERVICE_MESH_DISCOVERY_SCHEME).toBe('dns');
  });

  it('treats a namespace under the default discovery scheme as Cloud Map in AWS: no dummy credentials', async () => {
    const env: NodeJS.ProcessEnv = { SERVICE_MESH_DISCOVERY_NAMESPACE: 'mesh.jia.app', EXTERNAL_SERVICES_CONTACT_SERVICE_ADDRESS: '10.0.0.7:8443' };

    const deps = await start(env, { mesh: true });

    expect(deps.added).not.toHaveProperty('AWS_ACCESS_KEY_ID');
    expect(deps.added).not.toHaveProperty('AWS_REGION');
  });

  it('refuses an sqs endpoint without a queue url, saying what to set', async () => {
    const starting = start({ AWS_ENDPOINT_URL_SQS: 'http://localhost:9324' }, { queue: true });

    await expect(starting).rejects.toThrow(LocalSetupError);
    await expect(starting).rejects.toThrow(/set QUEUE_URL to the queue on that endpoint/);
  });

  it('refuses the user\'s own SVID with the reference contact-service, which could not trust it', async () => {
    const starting = start({ SVID_DIR: '/run/svid' }, { mesh: true });

    await expect(starting).rejects.toThrow(/Set EXTERNAL_SERVICES_CONTACT_SERVICE_ADDRESS to a contact-service that trusts your SVID/);
  });

  it('treats an empty variable as unset, as the functions do', async () => {
    const env: NodeJS.ProcessEnv = { QUEUE_URL: '', SERVICE_MESH_DISCOVERY_SCHEME: ' ' };

    await start(env, { queue: true, mesh: true });

    expect(env.QUEUE_URL).toMatch(/^http:\/\/127\.0\.0\.1/);
    expect(env.SERVICE_MESH_DISCOVERY_SCHEME).toBe('static');
  });
});
