import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fleetStateOf } from '../../../../shared/resilience/shared-breaker/fleet-breaker-record.js';
import { createMeshStateTable } from '../../../../shared/resilience/shared-breaker/mesh-state-table.js';
import { MeshStateStore } from '../../../../shared/resilience/shared-breaker/mesh-state-store.js';
import { startDynalite, type LocalDynamo } from '../../../local/dynalite.js';

let dynamo: LocalDynamo;
let store: MeshStateStore;
let tableName: string;
let tables = 0;
const T = Date.parse('2026-01-01T00:00:00.000Z');

beforeAll(async () => {
  dynamo = await startDynalite();
});
afterAll(async () => {
  await dynamo.close();
});
beforeEach(async () => {
  tableName = `mesh-state-store-${++tables}`;
  await createMeshStateTable(dynamo.client, tableName);
  store = new MeshStateStore({ tableName, client: dynamo.client });
});

async function rawItem() {
  const { Item } = await dynamo.client.send(new GetItemCommand({ TableName: tableName, Key: { pk: { S: 'breaker#contact-service' } }, ConsistentRead: true }));
  return Item;
}

describe('MeshStateStore', () => {
  it('reads a service without an item as closed at version 0', async () => {
    expect(await store.read('contact-service')).toEqual({ state: 'closed', version: 0 });
  });

  it('opens once: a second opening loses and returns the first one\'s record', async () => {
    const first = await store.open('contact-service', { now: T, by: 'a' });
    const second = await store.open('contact-service', { now: T + 10, by: 'b' });

    expect(first).toEqual({ won: true, record: { state: 'open', version: 1, openedAt: T, openedBy: 'a' } });
    expect(second).toEqual({ won: false, record: { state: 'open', version: 1, openedAt: T, openedBy: 'a' } });
  });

  it('writes the TTL attribute a day after every transition, in epoch seconds', async () => {
    await store.open('contact-service', { now: T, by: 'a' });
    const afterOpen = (await rawItem())?.expiresAt?.N;
    await store.acquireProbe('contact-service', { version: 1, owner: 'a', now: T + 60_000, dueBefore: T, leaseMs: 30_000 });
    await store.close('contact-service', { version: 1, owner: 'a', now: T + 61_000 });

    expect(afterOpen).toBe(String(T / 1000 + 86_400));
    expect((await rawItem())?.expiresAt?.N).toBe(String((T + 61_000) / 1000 + 86_400));
  });

  it('grants the probe only when it is due, at the current version, and while no lease runs', async () => {
    await store.open('contact-service', { now: T, by: 'a' });
    const at = (now: number, owner: string, version = 1) => ({ version, owner, now, dueBefore: now - 60_000, leaseMs: 30_000 });

    const early = await store.acquireProbe('contact-service', at(T + 59_999, 'a'));
    const stale = await store.acquireProbe('contact-service', at(T + 60_000, 'a', 0));
    const won = await store.acquireProbe('contact-service', at(T + 60_000, 'b'));
    const leased = await store.acquireProbe('contact-service', at(T + 89_999, 'c'));
    const afterLease = await store.acquireProbe('contact-service', at(T + 90_000, 'c'));

    expect([early.won, stale.won, won.won, leased.won, afterLease.won]).toEqual([false, false, true, false, true]);
    expect(fleetStateOf(won.record, T + 60_000)).toBe('half-open');
    expect(afterLease.record).toMatchObject({ leaseOwner: 'c', leaseUntil: T + 120_000 });
  });

  it('lets only the lease holder close or reopen', async () => {
    await store.open('contact-service', { now: T, by: 'a' });
    await store.acquireProbe('contact-service', { version: 1, owner: 'b', now: T + 60_000, dueBefore: T, leaseMs: 30_000 });

    const byOther = await store.close('contact-service', { version: 1, owner: 'a', now: T + 61_000 });
    const reopened = await store.reopen('contact-service', { version: 1, owner: 'b', now: T + 61_000 });

    expect(byOther.won).toBe(false);
    expect(reopened).toEqual({ won: true, record: { state: 'open', version: 2, openedAt: T + 61_000, openedBy: 'b' } });
    expect(fleetStateOf(reopened.record, T + 61_000)).toBe('open');
  });

  it('refuses a malformed item as a store error rather than guessing a state', async () => {
    await dynamo.client.send(new PutItemCommand({ TableName: tableName, Item: { pk: { S: 'breaker#contact-service' }, state: { S: 'ajar' }, version: { N: '1' } } }));

    await expect(store.read('contact-service')).rejects.toMatchObject({ code: 'BREAKER_STORE_MALFORMED', service: 'contact-service' });
  });

  it('names the operation and the service when the table is missing', async () => {
    const missing = new MeshStateStore({ tableName: 'no-such-table', client: dynamo.client });

    await expect(missing.open('contact-service', { now: T, by: 'a' })).rejects.toMatchObject({
      code: 'BREAKER_STORE_FAILED',
      operation: 'open',
      message: "the mesh-state table must answer the open of contact-service's fleet breaker, got ResourceNotFoundException",
    });
  });
});
