import {
  CreateTableCommand,
  DynamoDBClient,
  GetItemCommand,
  ListTablesCommand,
  PutItemCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_DYNAMO_CREDENTIALS, LOCAL_DYNAMO_REGION, startDynalite } from './dynalite.js';

/** Whether something accepts TCP connections on `endpoint`'s port. */
function accepts(endpoint: string): Promise<boolean> {
  const { hostname, port } = new URL(endpoint);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function createTable(client: DynamoDBClient, name: string) {
  await client.send(
    new CreateTableCommand({
      TableName: name,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
    }),
  );
  // Even with createTableMs: 0 a new table answers CREATING, and is ACTIVE a moment later.
  await waitUntilTableExists({ client, maxWaitTime: 10, minDelay: 1 }, { TableName: name });
}

describe('startDynalite', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dynalite-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('serves DynamoDB on 127.0.0.1 on an ephemeral port, with a ready client', async () => {
    // Prepare
    const dynamo = await startDynalite();
    try {
      // Act
      await createTable(dynamo.client, 'things');
      await dynamo.client.send(new PutItemCommand({ TableName: 'things', Item: { id: { S: 'a' } } }));
      const { Item } = await dynamo.client.send(new GetItemCommand({ TableName: 'things', Key: { id: { S: 'a' } } }));

      // Assess
      expect(dynamo.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(new URL(dynamo.endpoint).port).not.toBe('4567');
      expect(Item).toEqual({ id: { S: 'a' } });
    } finally {
      await dynamo.close();
    }
  });

  it('starts independent, empty servers side by side', async () => {
    // Prepare
    const [a, b] = await Promise.all([startDynalite(), startDynalite()]);
    try {
      // Act
      await createTable(a.client, 'only-in-a');
      const tablesOfB = await b.client.send(new ListTablesCommand({}));

      // Assess
      expect(a.endpoint).not.toBe(b.endpoint);
      expect(tablesOfB.TableNames).toEqual([]);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('stops listening on close, even with other clients keeping connections alive, and closes only once', async () => {
    // Prepare
    const dynamo = await startDynalite();
    const bystander = new DynamoDBClient({
      endpoint: dynamo.endpoint,
      region: LOCAL_DYNAMO_REGION,
      credentials: LOCAL_DYNAMO_CREDENTIALS,
    });
    await bystander.send(new ListTablesCommand({})); // leaves a keep-alive socket open

    // Act
    const closing = Promise.all([dynamo.close(), dynamo.close()]);

    // Assess
    await expect(closing).resolves.toBeDefined();
    expect(await accepts(dynamo.endpoint)).toBe(false);
    await expect(dynamo.client.send(new ListTablesCommand({}))).rejects.toThrow();
    bystander.destroy();
  });

  it('keeps tables and items across a restart when given a LevelDB path', async () => {
    // Prepare
    const path = join(dir, 'store');
    const first = await startDynalite({ path });
    await createTable(first.client, 'kept');
    await first.client.send(new PutItemCommand({ TableName: 'kept', Item: { id: { S: 'k' } } }));
    await first.close();

    // Act
    const second = await startDynalite({ path });
    try {
      const { Item } = await second.client.send(new GetItemCommand({ TableName: 'kept', Key: { id: { S: 'k' } } }));

      // Assess
      expect(Item).toEqual({ id: { S: 'k' } });
    } finally {
      await second.close();
    }
  });

  it('keeps nothing across a restart without a path', async () => {
    // Prepare
    const first = await startDynalite();
    await createTable(first.client, 'gone');
    await first.close();

    // Act
    const second = await startDynalite();
    try {
      const { TableNames } = await second.client.send(new ListTablesCommand({}));

      // Assess
      expect(TableNames).toEqual([]);
    } finally {
      await second.close();
    }
  });

  // A known gap, asserted so that code relying on DynamoDB's behaviour knows it must fall back
  // (the entitlements store reads the item again): if dynalite learns it, this test says so.
  it('does not return the item with a failed condition, unlike DynamoDB', async () => {
    // Prepare
    const dynamo = await startDynalite();
    try {
      await createTable(dynamo.client, 'gap');
      await dynamo.client.send(new PutItemCommand({ TableName: 'gap', Item: { id: { S: 'g' } } }));

      // Act
      const failure = await dynamo.client
        .send(
          new PutItemCommand({
            TableName: 'gap',
            Item: { id: { S: 'g' } },
            ConditionExpression: 'attribute_not_exists(id)',
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        )
        .catch((error: unknown) => error);

      // Assess
      expect(failure).toMatchObject({ name: 'ConditionalCheckFailedException' });
      expect((failure as { Item?: unknown }).Item).toBeUndefined();
    } finally {
      await dynamo.close();
    }
  });
});
