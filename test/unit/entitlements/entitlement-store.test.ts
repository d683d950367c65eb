import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  EntitlementStore,
  compareEventOrder,
  createEntitlementsTable,
  type EntitlementChange,
} from '../../../shared/entitlements/index.js';
import { startDynalite, type LocalDynamo } from '../../local/dynalite.js';
import { change, containerClient, intercept, requestOf, tickingClock } from './support.js';

let dynamo: LocalDynamo;
let documents: DynamoDBDocumentClient;
let tableName: string;
let tables = 0;

beforeAll(async () => {
  dynamo = await startDynalite();
  documents = DynamoDBDocumentClient.from(dynamo.client);
});
afterAll(async () => {
  await dynamo.close();
});
beforeEach(async () => {
  tableName = `entitlements-${++tables}`;
  await createEntitlementsTable(dynamo.client, tableName);
});

function store(client: DynamoDBClient = dynamo.client) {
  return new EntitlementStore({ tableName, client, now: tickingClock() });
}

const T = 1_700_000_000;
const pay = change({ action: 'grant', eventId: 'evt_pay', eventCreated: T, eventType: 'invoice.paid' });
const cancel = change({ action: 'revoke', eventId: 'evt_cancel', eventCreated: T + 60, eventType: 'customer.subscription.deleted' });
const repay = change({ action: 'grant', eventId: 'evt_repay', eventCreated: T + 120, eventType: 'invoice.paid' });

describe('EntitlementStore.apply', () => {
  it('grants an entitlement that list then shows, with when it took effect', async () => {
    // Prepare
    const entitlements = store();

    // Act
    const outcome = await entitlements.apply('u-2', pay);

    // Assess
    expect(outcome).toBe('applied');
    expect(await entitlements.list('u-2')).toEqual([
      { name: 'premium', status: 'granted', grantedAt: '2025-01-01T00:00:00.000Z', updatedAt: '2025-01-01T00:00:00.000Z', eventId: 'evt_pay' },
    ]);
    expect(await entitlements.list('u-3')).toEqual([]);
  });

  it('stores the schema the README documents', async () => {
    // Act
    await store().apply('u-2', pay);

    // Assess
    const { Item } = await documents.send(new GetCommand({ TableName: tableName, Key: { userId: 'u-2', entitlement: 'premium' } }));
    expect(Item).toEqual({
      userId: 'u-2',
      entitlement: 'premium',
      status: 'granted',
      eventId: 'evt_pay',
      eventCreated: T,
      eventRank: 0,
      eventType: 'invoice.paid',
      purchaserId: 'u-1',
      familyId: 'f-1',
      grantedAt: '2025-01-01T00:00:00.000Z',
      updatedAt: '2025-01-01T00:00:00.000Z',
    });
  });

  it('answers duplicate to the same event again and changes nothing', async () => {
    // Prepare
    const entitlements = store();
    await entitlements.apply('u-2', pay);
    const before = await entitlements.list('u-2');

    // Act
    const again = await entitlements.apply('u-2', pay);
    const redeliveredWithOtherCreated = await entitlements.apply('u-2', { ...pay, eventCreated: T + 5 });

    // Assess
    expect(again).toBe('duplicate');
    expect(redeliveredWithOtherCreated).toBe('duplicate');
    expect(await entitlements.list('u-2')).toEqual(before);
  });

  it('ends revoked when pay and cancel arrive in reverse order: the older grant is superseded', async () => {
    // Prepare
    const entitlements = store();
    await entitlements.apply('u-2', cancel);
    const before = await entitlements.list('u-2');

    // Act
    const outcome = await entitlements.apply('u-2', pay);

    // Assess
    expect(outcome).toBe('superseded');
    expect(await entitlements.list('u-2')).toEqual(before);
    expect(before).toMatchObject([{ status: 'revoked', grantedAt: undefined, eventId: 'evt_cancel' }]);
  });

  it('never lets an older revoke undo a newer grant', async () => {
    // Prepare
    const entitlements = store();
    await entitlements.apply('u-2', repay);

    // Act
    const outcome = await entitlements.apply('u-2', cancel);

    // Assess
    expect(outcome).toBe('superseded');
    expect(await entitlements.list('u-2')).toMatchObject([{ status: 'granted', eventId: 'evt_repay' }]);
  });

  it('re-grants on a newer grant after a revoke, from the time of the new grant', async () => {
    // Prepare
    const entitlements = store();
    await entitlements.apply('u-2', pay); // t0
    await entitlements.apply('u-2', cancel); // t0 + 1 s

    // Act
    const outcome = await entitlements.apply('u-2', repay); // t0 + 2 s

    // Assess
    expect(outcome).toBe('applied');
    expect(await entitlements.list('u-2')).toEqual([
      { name: 'premium', status: 'granted', grantedAt: '2025-01-01T00:00:02.000Z', updatedAt: '2025-01-01T00:00:02.000Z', eventId: 'evt_repay' },
    ]);
  });

  it('keeps the start of an uninterrupted grant across a newer grant (a renewal)', async () => {
    // Prepare
    const entitlements = store();
    await entitlements.apply('u-2', pay); // t0

    // Act
    const outcome = await entitlements.apply('u-2', { ...repay, eventCreated: T + 30 }); // t0 + 1 s

    // Assess
    expect(outcome).toBe('applied');
    expect(await entitlements.list('u-2')).toMatchObject([
      { status: 'granted', grantedAt: '2025-01-01T00:00:00.000Z', updatedAt: '2025-01-01T00:00:01.000Z', eventId: 'evt_repay' },
    ]);
  });

  it('keeps each entitlement of a user apart, listed by name', async () => {
    // Prepare
    const entitlements = store();

    // Act
    await entitlements.apply('u-2', { ...pay, entitlement: 'storage' });
    await entitlements.apply('u-2', { ...cancel, entitlement: 'premium' });

    // Assess
    expect((await entitlements.list('u-2')).map(({ name, status }) => ({ name, status }))).toEqual([
      { name: 'premium', status: 'revoked' },
      { name: 'storage', status: 'granted' },
    ]);
  });
});

describe('ties on eventCreated', () => {
  const sameSecond: EntitlementChange[] = [
    change({ action: 'grant', eventId: 'evt_a', eventCreated: T }),
    change({ action: 'grant', eventId: 'evt_z', eventCreated: T }),
    change({ action: 'revoke', eventId: 'evt_b', eventCreated: T }),
    change({ action: 'revoke', eventId: 'evt_c', eventCreated: T }),
  ];

  it('orders revoke over grant, then by eventId', () => {
    // Act
    const sorted = [...sameSecond].sort(compareEventOrder).map((c) => c.eventId);

    // Assess
    expect(sorted).toEqual(['evt_a', 'evt_z', 'evt_b', 'evt_c']);
  });

  it('ends with the same effect whatever order the events arrive in', async () => {
    // Prepare
    const entitlements = store();
    const orders = permutations(sameSecond);

    // Act
    const finals = await Promise.all(
      orders.map(async (order, i) => {
        const outcomes = [];
        for (const c of order) outcomes.push(await entitlements.apply(`perm-${i}`, c));
        const [final] = await entitlements.list(`perm-${i}`);
        return { outcomes, final };
      }),
    );

    // Assess
    expect(orders).toHaveLength(24);
    for (const { outcomes, final } of finals) {
      expect(final).toMatchObject({ status: 'revoked', eventId: 'evt_c' });
      expect(outcomes.filter((o) => o === 'duplicate')).toEqual([]);
    }
  });

  it('revokes when a grant and a revoke of the same second race', async () => {
    // Prepare
    const [a, b] = [containerClient(dynamo.endpoint), containerClient(dynamo.endpoint)];
    const [grant, revoke] = [change({ action: 'grant', eventId: 'evt_z', eventCreated: T }), change({ action: 'revoke', eventId: 'evt_a', eventCreated: T })];

    // Act
    const outcomes = await Promise.all([store(a).apply('u-2', grant), store(b).apply('u-2', revoke)]);

    // Assess
    expect(outcomes[1]).toBe('applied');
    expect(await store().list('u-2')).toMatchObject([{ status: 'revoked', eventId: 'evt_a' }]);
    a.destroy();
    b.destroy();
  });
});

describe('telling duplicate from superseded', () => {
  it('uses the item DynamoDB returns with a failed condition, without reading it again', async () => {
    // Prepare: dynalite ignores ReturnValuesOnConditionCheckFailure, so attach the item as DynamoDB does.
    const client = containerClient(dynamo.endpoint);
    const entitlements = store(client);
    await entitlements.apply('u-2', cancel);
    const sent: string[] = [];
    intercept(client, 'returnOldItem', (next, context) => async (args) => {
      sent.push(requestOf(args, context).command);
      try {
        return await next(args);
      } catch (error) {
        const input = args.input as { ReturnValuesOnConditionCheckFailure?: string };
        if ((error as Error).name === 'ConditionalCheckFailedException' && input.ReturnValuesOnConditionCheckFailure === 'ALL_OLD') {
          Object.assign(error as object, { Item: { eventId: { S: 'evt_cancel' } } });
        }
        throw error;
      }
    });

    // Act
    const outcomes = [await entitlements.apply('u-2', cancel), await entitlements.apply('u-2', pay)];

    // Assess
    expect(outcomes).toEqual(['duplicate', 'superseded']);
    expect(sent).toEqual(['UpdateItemCommand', 'UpdateItemCommand']);
    client.destroy();
  });

  it('fails the write when the item that failed the condition cannot be read', async () => {
    // Prepare
    const client = containerClient(dynamo.endpoint);
    const entitlements = store(client);
    await entitlements.apply('u-2', cancel);
    const throttled = Object.assign(new Error('rate exceeded'), { name: 'ProvisionedThroughputExceededException' });
    intercept(client, 'failReads', (next, context) => async (args) => {
      if (requestOf(args, context).command === 'GetItemCommand') throw throttled;
      return next(args);
    });

    // Act
    const failure = await entitlements.apply('u-2', pay).catch((error: unknown) => error);

    // Assess
    expect(failure).toMatchObject({ code: 'ENTITLEMENT_WRITE_FAILED', userIds: ['u-2'], tableName, cause: throttled });
    client.destroy();
  });
});

function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [[...items]];
  return items.flatMap((item, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]));
}
