import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  ENTITLEMENT_STORE_DEFAULTS,
  EntitlementStore,
  createEntitlementsTable,
  isEntitlementStoreError,
  type ApplyOutcome,
} from '../../../shared/entitlements/index.js';
import { startDynalite, type LocalDynamo } from '../../local/dynalite.js';
import { change, containerClient, countInFlight, intercept, memberIds, requestOf, tickingClock } from './support.js';

let dynamo: LocalDynamo;
let tableName: string;
let tables = 0;
const clients: DynamoDBClient[] = [];

beforeAll(async () => {
  dynamo = await startDynalite();
});
afterAll(async () => {
  await dynamo.close();
});
beforeEach(async () => {
  tableName = `members-${++tables}`;
  await createEntitlementsTable(dynamo.client, tableName);
});
afterEach(() => {
  for (const client of clients.splice(0)) client.destroy();
});

/** A store on its own client, as one Lambda container has. */
function container(options: { concurrency?: number; now?: () => Date } = {}) {
  const client = containerClient(dynamo.endpoint);
  clients.push(client);
  return { client, store: new EntitlementStore({ tableName, client, now: tickingClock(), ...options }) };
}

function count(outcomes: Iterable<ApplyOutcome>, outcome: ApplyOutcome) {
  return [...outcomes].filter((o) => o === outcome).length;
}

describe('EntitlementStore.applyToMembers', () => {
  it('grants every member of the family and answers per member', async () => {
    // Prepare
    const { store } = container();
    const family = memberIds(12);

    // Act
    const outcomes = await store.applyToMembers(family, change());

    // Assess
    expect([...outcomes.keys()]).toEqual(expect.arrayContaining(family));
    expect(count(outcomes.values(), 'applied')).toBe(12);
    for (const member of family) {
      expect(await store.list(member)).toMatchObject([{ name: 'premium', status: 'granted', eventId: 'evt_1' }]);
    }
  });

  it('attempts a member listed twice once', async () => {
    // Prepare
    const { client, store } = container();
    const counts = countInFlight(client, 0);

    // Act
    const outcomes = await store.applyToMembers(['m-1', 'm-2', 'm-1'], change());

    // Assess
    expect(outcomes).toEqual(new Map([['m-1', 'applied'], ['m-2', 'applied']]));
    expect(counts.sends).toBe(2);
  });

  it('answers an empty map for a family without members', async () => {
    // Act
    const outcomes = await container().store.applyToMembers([], change());

    // Assess
    expect(outcomes.size).toBe(0);
  });

  it('takes effect once per member when three containers apply the same event to 50 members at once', async () => {
    // Prepare: each container has its own clock, so an item tells which container wrote it.
    const family = memberIds(50);
    const containers = [0, 1, 2].map((i) => container({ now: () => new Date(Date.UTC(2025, 0, 1, 0, 0, i)) }));

    // Act
    const runs = await Promise.all(containers.map(({ store }) => store.applyToMembers(family, change())));

    // Assess
    const appliedBy = new Map<string, number[]>();
    runs.forEach((outcomes, i) => {
      expect(outcomes.size).toBe(50);
      for (const [member, outcome] of outcomes) {
        expect(outcome === 'applied' || outcome === 'duplicate').toBe(true);
        if (outcome === 'applied') appliedBy.set(member, [...(appliedBy.get(member) ?? []), i]);
      }
    });
    expect(runs.reduce((total, outcomes) => total + count(outcomes.values(), 'applied'), 0)).toBe(50);
    for (const member of family) {
      const writers = appliedBy.get(member) ?? [];
      expect(writers, member).toHaveLength(1);
      const [entitlement] = await containers[0]!.store.list(member);
      expect(entitlement).toMatchObject({ status: 'granted', eventId: 'evt_1', updatedAt: `2025-01-01T00:00:0${writers[0]}.000Z` });
    }
  });

  it('keeps at most `concurrency` writes in flight, across concurrent calls too', async () => {
    // Prepare
    const { client, store } = container({ concurrency: 4 });
    const counts = countInFlight(client);

    // Act
    await Promise.all([
      store.applyToMembers(memberIds(30, 'a'), change()),
      store.applyToMembers(memberIds(30, 'b'), change()),
    ]);

    // Assess
    expect(counts.sends).toBe(60);
    expect(counts.maxInFlight).toBe(4);
  });

  it('defaults to 50 writes in flight: a 50-member family in one wave', async () => {
    // Prepare
    const client = containerClient(dynamo.endpoint);
    clients.push(client);
    const store = new EntitlementStore({ tableName, client });
    const counts = countInFlight(client, 20);

    // Act
    await store.applyToMembers(memberIds(60), change());

    // Assess
    expect(ENTITLEMENT_STORE_DEFAULTS.concurrency).toBe(50);
    expect(counts.maxInFlight).toBe(50);
  });

  it('stamps every member of one change with the same time', async () => {
    // Prepare: a clock that ticks on every read.
    const { store } = container();

    // Act
    await store.applyToMembers(memberIds(5), change());

    // Assess
    const stamps = await Promise.all(memberIds(5).map(async (member) => (await store.list(member))[0]?.updatedAt));
    expect(new Set(stamps)).toEqual(new Set(['2025-01-01T00:00:00.000Z']));
  });

  it('writes every other member when one fails, then throws listing the failed one with its cause', async () => {
    // Prepare
    const { client, store } = container();
    const family = memberIds(20);
    const throttled = Object.assign(new Error('rate of requests exceeds the allowed throughput'), {
      name: 'ProvisionedThroughputExceededException',
    });
    const heal = intercept(client, 'failMember07', (next, context) => async (args) => {
      if (requestOf(args, context).userId === 'member-07') throw throttled;
      return next(args);
    });

    // Act
    const failure = await store.applyToMembers(family, change()).catch((error: unknown) => error);

    // Assess
    expect(isEntitlementStoreError(failure, 'ENTITLEMENT_MEMBERS_FAILED')).toBe(true);
    expect(failure).toMatchObject({ userIds: ['member-07'], tableName });
    const memberFailure = (failure as Error).cause;
    expect(isEntitlementStoreError(memberFailure, 'ENTITLEMENT_WRITE_FAILED')).toBe(true);
    expect(memberFailure).toMatchObject({ userIds: ['member-07'], tableName });
    expect((memberFailure as Error).cause).toBe(throttled);
    expect((failure as Error).message).toContain('"member-07"');
    expect((failure as Error).message).toContain(`"${tableName}"`);
    expect((failure as Error).message).toContain('ProvisionedThroughputExceededException');
    for (const member of family) {
      expect(await store.list(member), member).toHaveLength(member === 'member-07' ? 0 : 1);
    }

    // Act: the caller retries the whole record once the table recovers.
    heal();
    const retry = await store.applyToMembers(family, change());

    // Assess
    expect(retry.get('member-07')).toBe('applied');
    expect(count(retry.values(), 'duplicate')).toBe(19);
  });

  it('lists every failed member, first cause first in member order', async () => {
    // Prepare
    const { client, store } = container({ concurrency: 1 });
    const causes = new Map(['member-03', 'member-01'].map((m) => [m, new Error(`down for ${m}`)]));
    intercept(client, 'failTwo', (next, context) => async (args) => {
      const cause = causes.get(requestOf(args, context).userId ?? '');
      if (cause) throw cause;
      return next(args);
    });

    // Act
    const failure = await store.applyToMembers(memberIds(5), change()).catch((error: unknown) => error);

    // Assess
    expect(failure).toMatchObject({ code: 'ENTITLEMENT_MEMBERS_FAILED', userIds: ['member-01', 'member-03'] });
    expect(((failure as Error).cause as Error).cause).toBe(causes.get('member-01'));
    expect((failure as Error).message).toMatch(/^2 of 5 members were not written for event evt_1/);
  });

  it('refuses an empty member id before writing anyone', async () => {
    // Prepare
    const { client, store } = container();
    const counts = countInFlight(client, 0);

    // Act
    const failure = await store.applyToMembers(['m-1', '', 'm-2'], change()).catch((error: unknown) => error);

    // Assess
    expect(failure).toMatchObject({ code: 'ENTITLEMENT_INVALID_CHANGE', message: 'user id must be a non-empty string, got "" (event evt_1)' });
    expect(counts.sends).toBe(0);
  });
});
