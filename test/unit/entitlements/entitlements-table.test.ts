import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  EntitlementStore,
  createEntitlementsTable,
  isEntitlementStoreError,
} from '../../../shared/entitlements/index.js';
import { LOCAL_DYNAMO_CREDENTIALS, LOCAL_DYNAMO_REGION, startDynalite, type LocalDynamo } from '../../local/dynalite.js';
import { change, memberIds } from './support.js';

let dynamo: LocalDynamo;
let documents: DynamoDBDocumentClient;

beforeAll(async () => {
  dynamo = await startDynalite();
  documents = DynamoDBDocumentClient.from(dynamo.client);
});
afterAll(async () => {
  await dynamo.close();
});

describe('createEntitlementsTable', () => {
  it('creates an active on-demand table keyed by userId and entitlement', async () => {
    // Act
    await createEntitlementsTable(dynamo.client, 'created');

    // Assess
    const { Table } = await dynamo.client.send(new DescribeTableCommand({ TableName: 'created' }));
    expect(Table).toMatchObject({
      TableStatus: 'ACTIVE',
      BillingModeSummary: { BillingMode: 'PAY_PER_REQUEST' },
      KeySchema: [
        { AttributeName: 'userId', KeyType: 'HASH' },
        { AttributeName: 'entitlement', KeyType: 'RANGE' },
      ],
    });
  });

  it('leaves an existing table and its items alone', async () => {
    // Prepare
    await createEntitlementsTable(dynamo.client, 'existing');
    const store = new EntitlementStore({ tableName: 'existing', client: dynamo.client });
    await store.apply('u-2', change());

    // Act
    await createEntitlementsTable(dynamo.client, 'existing');

    // Assess
    expect(await store.list('u-2')).toHaveLength(1);
  });
});

describe('the table an EntitlementStore uses', () => {
  it('is the one it is given', async () => {
    // Prepare
    await Promise.all([createEntitlementsTable(dynamo.client, 'table-a'), createEntitlementsTable(dynamo.client, 'table-b')]);
    const a = new EntitlementStore({ tableName: 'table-a', client: dynamo.client });
    const b = new EntitlementStore({ tableName: 'table-b', client: dynamo.client });

    // Act
    await a.apply('u-2', change());

    // Assess
    expect(a.tableName).toBe('table-a');
    expect(await a.list('u-2')).toHaveLength(1);
    expect(await b.list('u-2')).toEqual([]);
  });

  it('is named, with the user, when writing or reading it fails', async () => {
    // Prepare
    const store = new EntitlementStore({ tableName: 'no-such-table', client: dynamo.client });

    // Act
    const written = await store.apply('u-2', change()).catch((error: unknown) => error);
    const read = await store.list('u-2').catch((error: unknown) => error);

    // Assess
    expect(written).toMatchObject({
      code: 'ENTITLEMENT_WRITE_FAILED',
      tableName: 'no-such-table',
      userIds: ['u-2'],
      message: expect.stringMatching(/^cannot grant entitlement "premium" of user "u-2" for event evt_1 in table "no-such-table": ResourceNotFoundException/),
      cause: expect.objectContaining({ name: 'ResourceNotFoundException' }),
    });
    expect(read).toMatchObject({
      code: 'ENTITLEMENT_READ_FAILED',
      tableName: 'no-such-table',
      userIds: ['u-2'],
      message: expect.stringMatching(/^cannot list entitlements of user "u-2" in table "no-such-table": ResourceNotFoundException/),
      cause: expect.objectContaining({ name: 'ResourceNotFoundException' }),
    });
  });

  it('holding an item this store did not write fails the read, naming it', async () => {
    // Prepare
    await createEntitlementsTable(dynamo.client, 'foreign');
    await documents.send(new PutCommand({ TableName: 'foreign', Item: { userId: 'u-2', entitlement: 'legacy', status: 'active' } }));
    const store = new EntitlementStore({ tableName: 'foreign', client: dynamo.client });

    // Act
    const read = await store.list('u-2').catch((error: unknown) => error);

    // Assess
    expect(isEntitlementStoreError(read, 'ENTITLEMENT_READ_FAILED')).toBe(true);
    expect((read as Error).message).toBe('entitlement "legacy" of user "u-2" is not shaped like this store\'s items in table "foreign"');
  });
});

describe('the default client', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('honours AWS_ENDPOINT_URL_DYNAMODB', async () => {
    // Prepare
    await createEntitlementsTable(dynamo.client, 'from-env');
    vi.stubEnv('AWS_ENDPOINT_URL_DYNAMODB', dynamo.endpoint);
    vi.stubEnv('AWS_REGION', LOCAL_DYNAMO_REGION);
    vi.stubEnv('AWS_ACCESS_KEY_ID', LOCAL_DYNAMO_CREDENTIALS.accessKeyId);
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', LOCAL_DYNAMO_CREDENTIALS.secretAccessKey);
    vi.stubEnv('AWS_PROFILE', undefined);
    const store = new EntitlementStore({ tableName: 'from-env' });

    // Act
    const outcome = await store.apply('u-2', change());

    // Assess: written to dynalite, as the test's own client sees.
    expect(outcome).toBe('applied');
    const reader = new EntitlementStore({ tableName: 'from-env', client: dynamo.client });
    expect(await reader.list('u-2')).toMatchObject([{ name: 'premium', status: 'granted' }]);
  });

  it('puts as many writes on the wire at once as the store allows, past the SDK\'s 50 sockets', async () => {
    // Prepare: a DynamoDB that holds every UpdateItem 100 ms and counts those it holds at once.
    const held = { now: 0, max: 0 };
    const server = createServer((req, res) => {
      held.max = Math.max(held.max, ++held.now);
      req.resume().on('end', () =>
        setTimeout(() => {
          held.now--;
          res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' }).end('{}');
        }, 100),
      );
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    vi.stubEnv('AWS_ENDPOINT_URL_DYNAMODB', `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    vi.stubEnv('AWS_REGION', LOCAL_DYNAMO_REGION);
    vi.stubEnv('AWS_ACCESS_KEY_ID', LOCAL_DYNAMO_CREDENTIALS.accessKeyId);
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', LOCAL_DYNAMO_CREDENTIALS.secretAccessKey);
    vi.stubEnv('AWS_PROFILE', undefined);
    const store = new EntitlementStore({ tableName: 'held', concurrency: 64 });

    // Act
    const outcomes = await store.applyToMembers(memberIds(64), change());

    // Assess
    expect(outcomes.size).toBe(64);
    expect(held.max).toBe(64);
    server.closeAllConnections();
    server.close();
  });
});
