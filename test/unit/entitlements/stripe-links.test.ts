import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EntitlementStore, createEntitlementsTable } from '../../../shared/entitlements/index.js';
import { StripeLinkStore } from '../../../shared/entitlements/stripe-links.js';
import { startDynalite, type LocalDynamo } from '../../local/dynalite.js';
import { change } from './support.js';

let dynamo: LocalDynamo;
let tableName: string;
let tables = 0;

beforeAll(async () => {
  dynamo = await startDynalite();
});
afterAll(async () => {
  await dynamo.close();
});
beforeEach(async () => {
  tableName = `links-${++tables}`;
  await createEntitlementsTable(dynamo.client, tableName);
});

const links = () => new StripeLinkStore({ tableName, client: dynamo.client });
const T = 1_767_225_600;

describe('StripeLinkStore links', () => {
  it('resolves an object to the user the first event naming both linked it to', async () => {
    await links().link(['sub_A', 'cus_A'], 'user-1', { eventId: 'evt_1', eventCreated: T });

    expect(await links().userOf(['cus_A'])).toEqual({ ref: 'cus_A', userId: 'user-1' });
    expect(await links().userOf(['pi_unknown', 'sub_A'])).toEqual({ ref: 'sub_A', userId: 'user-1' });
    expect(await links().userOf(['pi_unknown'])).toBeUndefined();
  });

  it('is never overwritten by an older event, whatever order they arrive in', async () => {
    await links().link(['cus_A'], 'user-new', { eventId: 'evt_2', eventCreated: T + 10 });
    await links().link(['cus_A'], 'user-old', { eventId: 'evt_1', eventCreated: T });

    expect((await links().userOf(['cus_A']))?.userId).toBe('user-new');
  });

  it('is moved by a newer event, and breaks a same-second tie by event id', async () => {
    await links().link(['cus_A'], 'user-1', { eventId: 'evt_b', eventCreated: T });
    await links().link(['cus_A'], 'user-2', { eventId: 'evt_a', eventCreated: T });
    expect((await links().userOf(['cus_A']))?.userId).toBe('user-1');

    await links().link(['cus_A'], 'user-3', { eventId: 'evt_c', eventCreated: T + 1 });
    expect((await links().userOf(['cus_A']))?.userId).toBe('user-3');
  });

  it('takes the same link twice as one (a redelivery), and many at once', async () => {
    const order = { eventId: 'evt_1', eventCreated: T };
    await Promise.all(Array.from({ length: 5 }, () => links().link(['cus_A', 'sub_A'], 'user-1', order)));

    expect(await links().userOf(['sub_A'])).toEqual({ ref: 'sub_A', userId: 'user-1' });
  });

  it('keeps its items out of a user\'s entitlements even under the same partition key', async () => {
    await links().link(['cus_A'], 'user-1', { eventId: 'evt_1', eventCreated: T });
    const store = new EntitlementStore({ tableName, client: dynamo.client });
    await store.apply('stripe#cus_A', change());

    expect((await store.list('stripe#cus_A')).map((e) => e.name)).toEqual(['premium']);
  });
});

describe('StripeLinkStore feature summaries', () => {
  it('knows every feature any summary listed, and keeps the newest summary whatever the order', async () => {
    await links().recordFeatureSummary('cus_A', { eventId: 'evt_3', eventCreated: T + 30, features: ['storage'] });
    const older = await links().recordFeatureSummary('cus_A', { eventId: 'evt_1', eventCreated: T + 10, features: ['storage', 'support'] });

    expect(older).toEqual({ known: ['storage', 'support'], newest: { eventId: 'evt_3', eventCreated: T + 30, features: ['storage'] } });
  });

  it('adds a partial summary\'s features to the known ones, without making it the newest', async () => {
    await links().recordFeatureSummary('cus_A', { eventId: 'evt_1', eventCreated: T, features: ['storage'] });
    const partial = await links().recordFeatureSummary('cus_A', { eventId: 'evt_2', eventCreated: T + 1, features: ['support'] }, { complete: false });

    expect(partial).toEqual({ known: ['storage', 'support'], newest: { eventId: 'evt_1', eventCreated: T, features: ['storage'] } });
  });

  it('records an empty summary: the customer holds no feature any more', async () => {
    await links().recordFeatureSummary('cus_A', { eventId: 'evt_1', eventCreated: T, features: ['storage'] });
    const empty = await links().recordFeatureSummary('cus_A', { eventId: 'evt_2', eventCreated: T + 1, features: [] });

    expect(empty).toEqual({ known: ['storage'], newest: { eventId: 'evt_2', eventCreated: T + 1, features: [] } });
  });
});

describe('lapsing grants', () => {
  it('a grant with expiresAt lists when it ends; a later grant without one ends the lapse; a revoke removes it', async () => {
    const store = new EntitlementStore({ tableName, client: dynamo.client });
    await store.apply('u-1', change({ eventId: 'evt_1', eventCreated: T, expiresAt: T + 3600 }));
    expect((await store.list('u-1'))[0]).toMatchObject({ status: 'granted', expiresAt: new Date((T + 3600) * 1000).toISOString() });

    await store.apply('u-1', change({ eventId: 'evt_2', eventCreated: T + 1 }));
    expect((await store.list('u-1'))[0]).toMatchObject({ status: 'granted', expiresAt: undefined });

    await store.apply('u-1', change({ eventId: 'evt_3', eventCreated: T + 2, expiresAt: T + 60 }));
    await store.apply('u-1', change({ action: 'revoke', eventId: 'evt_4', eventCreated: T + 3 }));
    expect((await store.list('u-1'))[0]).toMatchObject({ status: 'revoked', expiresAt: undefined, grantedAt: undefined });
  });

  it('refuses expiresAt on a revoke, and an entitlement name the table reserves', async () => {
    const store = new EntitlementStore({ tableName, client: dynamo.client });

    await expect(store.apply('u-1', change({ action: 'revoke', expiresAt: T }))).rejects.toMatchObject({ code: 'ENTITLEMENT_INVALID_CHANGE' });
    await expect(store.apply('u-1', change({ entitlement: '#link' }))).rejects.toMatchObject({ code: 'ENTITLEMENT_INVALID_CHANGE' });
  });
});
