import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DynamoDBClient, UpdateItemCommand, type UpdateItemCommandInput } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EntitlementStore, type EntitlementChange } from '../../shared/entitlements/index.js';
import { LOCAL_DYNAMO_CREDENTIALS, LOCAL_DYNAMO_REGION } from '../local/dynalite.js';
import { latencyStore, type LatencyStore } from './latency-store.js';

const LATENCY_MS = 30;
let server: Server;
let store: LatencyStore;
let client: DynamoDBClient;
const sent: string[] = [];

beforeAll(async () => {
  store = latencyStore({ tableName: 'entitlements', latencyMs: LATENCY_MS });
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => store.updateItem(Buffer.concat(chunks).toString('utf8'), res));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  client = new DynamoDBClient({
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    region: LOCAL_DYNAMO_REGION,
    credentials: LOCAL_DYNAMO_CREDENTIALS,
  });
  client.middlewareStack.add((next, context) => (args) => (sent.push(context.commandName ?? ''), next(args)), { step: 'initialize', name: 'recordSent' });
});
afterAll(() => {
  client.destroy();
  server.closeAllConnections();
  server.close();
});

const change = (overrides: Partial<EntitlementChange> = {}): EntitlementChange => ({
  action: 'grant',
  entitlement: 'premium',
  eventId: 'evt_1',
  eventCreated: 1_700_000_000,
  eventType: 'invoice.paid',
  purchaserId: 'u-1',
  familyId: 'f-1',
  ...overrides,
});

/** A failed UpdateItem's name and message, or 'applied'. */
async function send(input: Partial<UpdateItemCommandInput>): Promise<unknown> {
  const request: UpdateItemCommandInput = {
    TableName: 'entitlements',
    Key: { userId: { S: 'raw' }, entitlement: { S: 'premium' } },
    UpdateExpression: 'SET #status = :status',
    ExpressionAttributeNames: { '#status': 'status' },
    ExpressionAttributeValues: { ':status': { S: 'granted' } },
    ...input,
  };
  return client.send(new UpdateItemCommand(request)).then(
    () => 'applied',
    (error: Error & { Item?: unknown }) => ({ name: error.name, message: error.message, item: error.Item }),
  );
}

describe('the latency-bound DynamoDB stand-in', () => {
  it('applies, then tells a duplicate and a superseded event apart with the item it returns, as DynamoDB does', async () => {
    // Prepare
    const entitlements = new EntitlementStore({ tableName: 'entitlements', client });
    sent.length = 0;

    // Act
    const outcomes = [
      await entitlements.apply('u-2', change({ eventId: 'evt_2', eventCreated: 1_700_000_100 })),
      await entitlements.apply('u-2', change({ eventId: 'evt_2', eventCreated: 1_700_000_100 })),
      await entitlements.apply('u-2', change({ eventId: 'evt_1', eventCreated: 1_700_000_000 })),
      await entitlements.apply('u-2', change({ eventId: 'evt_3', eventCreated: 1_700_000_100, action: 'revoke' })),
    ];

    // Assess: no GetItem was needed to tell them apart.
    expect(outcomes).toEqual(['applied', 'duplicate', 'superseded', 'applied']);
    expect(sent).toEqual(Array(4).fill('UpdateItemCommand'));
    expect(store.writes).toBeGreaterThanOrEqual(4);
  });

  it('removes on REMOVE and keeps if_not_exists, as the old item it returns shows', async () => {
    // Prepare
    const entitlements = new EntitlementStore({ tableName: 'entitlements', client, now: () => new Date('2025-01-01T00:00:00.000Z') });
    await entitlements.apply('u-3', change());
    await entitlements.apply('u-3', change({ action: 'revoke', eventId: 'evt_9', eventCreated: 1_700_000_900 }));

    // Act: a write whose condition fails hands the item back.
    const failed = await send({
      Key: { userId: { S: 'u-3' }, entitlement: { S: 'premium' } },
      ConditionExpression: 'attribute_not_exists(#userId)',
      ExpressionAttributeNames: { '#status': 'status', '#userId': 'userId' },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    });

    // Assess
    expect(failed).toMatchObject({ name: 'ConditionalCheckFailedException', item: { status: { S: 'revoked' }, eventId: { S: 'evt_9' } } });
    expect((failed as { item: Record<string, unknown> }).item).not.toHaveProperty('grantedAt');
  });

  it(`answers after its latency (${LATENCY_MS} ms)`, async () => {
    // Act
    const startedAt = performance.now();
    await send({});

    // Assess
    expect(performance.now() - startedAt).toBeGreaterThanOrEqual(LATENCY_MS - 1);
  });

  it.each([
    {
      why: 'a value the expressions do not use',
      input: { ExpressionAttributeValues: { ':status': { S: 'granted' }, ':spare': { S: 'x' } } },
      error: { name: 'ValidationException', message: 'Value provided in ExpressionAttributeValues unused in expressions: keys: {:spare}' },
    },
    {
      why: 'a name the expressions use but do not define',
      input: { UpdateExpression: 'SET #status = :status, #other = :status' },
      error: { name: 'ValidationException', message: 'An expression attribute name used in the document path is not defined; attribute name: #other' },
    },
    {
      why: 'an expression it does not understand',
      input: { UpdateExpression: 'ADD #status :status' },
      error: { name: 'ValidationException', message: 'unsupported update expression: ADD #status :status' },
    },
    {
      why: 'another table',
      input: { TableName: 'other' },
      error: { name: 'ResourceNotFoundException', message: 'Requested resource not found' },
    },
  ])('refuses $why, as DynamoDB would', async ({ input, error }) => {
    // Assess
    expect(await send(input)).toMatchObject(error);
  });
});
