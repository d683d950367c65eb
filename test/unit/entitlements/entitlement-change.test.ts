import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  EntitlementStore,
  compareEventOrder,
  createEntitlementsTable,
  isEntitlementStoreError,
  type EntitlementChange,
  type EventOrder,
} from '../../../shared/entitlements/index.js';
import { startDynalite, type LocalDynamo } from '../../local/dynalite.js';
import { change, containerClient, countInFlight } from './support.js';

describe('compareEventOrder', () => {
  const at = (eventCreated: number, action: EventOrder['action'], eventId: string): EventOrder => ({ eventCreated, action, eventId });

  it.each([
    { a: at(1, 'revoke', 'evt_z'), b: at(2, 'grant', 'evt_a'), why: 'an earlier second comes first, whatever the action and id' },
    { a: at(5, 'grant', 'evt_z'), b: at(5, 'revoke', 'evt_a'), why: 'within a second, grant comes before revoke, so revoke wins' },
    { a: at(5, 'grant', 'evt_A'), b: at(5, 'grant', 'evt_a'), why: 'then ids compare by code unit, like DynamoDB bytes' },
    { a: at(5, 'revoke', 'evt_1'), b: at(5, 'revoke', 'evt_2'), why: 'then ids compare for revokes too' },
  ])('$why', ({ a, b }) => {
    // Assess
    expect(compareEventOrder(a, b)).toBeLessThan(0);
    expect(compareEventOrder(b, a)).toBeGreaterThan(0);
  });

  it('finds an event equal to itself', () => {
    // Assess
    expect(compareEventOrder(at(5, 'grant', 'evt_1'), at(5, 'grant', 'evt_1'))).toBe(0);
  });
});

describe('input validation', () => {
  let dynamo: LocalDynamo;
  const tableName = 'entitlements';

  beforeAll(async () => {
    dynamo = await startDynalite();
    await createEntitlementsTable(dynamo.client, tableName);
  });
  afterAll(async () => {
    await dynamo.close();
  });

  const invalidChanges: { overrides: Record<string, unknown>; message: string }[] = [
    { overrides: { entitlement: '' }, message: 'entitlement must be a non-empty string, got "" (event evt_1)' },
    { overrides: { eventCreated: Number.NaN }, message: 'eventCreated must be a finite number of epoch seconds, got NaN (event evt_1)' },
    { overrides: { eventCreated: Number.POSITIVE_INFINITY }, message: 'eventCreated must be a finite number of epoch seconds, got Infinity (event evt_1)' },
    { overrides: { eventCreated: '1700000000' }, message: 'eventCreated must be a finite number of epoch seconds, got "1700000000" (event evt_1)' },
    { overrides: { eventId: '' }, message: 'eventId must be a non-empty string, got ""' },
    { overrides: { action: 'refund' }, message: 'action must be "grant" or "revoke", got "refund" (event evt_1)' },
    { overrides: { eventType: '' }, message: 'eventType must be a non-empty string, got "" (event evt_1)' },
    { overrides: { purchaserId: undefined }, message: 'purchaserId must be a non-empty string, got undefined (event evt_1)' },
    { overrides: { familyId: null }, message: 'familyId must be a string, got null (event evt_1)' },
  ];

  it.each(invalidChanges)('refuses $overrides before writing: $message', async ({ overrides, message }) => {
    // Prepare
    const client = containerClient(dynamo.endpoint);
    const counts = countInFlight(client, 0);
    const store = new EntitlementStore({ tableName, client });
    const bad = { ...change(), ...overrides } as EntitlementChange;

    // Act
    const applied = await store.apply('u-2', bad).catch((error: unknown) => error);
    const appliedToMembers = await store.applyToMembers(['u-2'], bad).catch((error: unknown) => error);

    // Assess
    for (const failure of [applied, appliedToMembers]) {
      expect(isEntitlementStoreError(failure, 'ENTITLEMENT_INVALID_CHANGE')).toBe(true);
      expect((failure as Error).message).toBe(message);
    }
    expect(counts.sends).toBe(0);
    client.destroy();
  });

  it('accepts an empty familyId: a purchaser without a family', async () => {
    // Prepare
    const client = containerClient(dynamo.endpoint);
    const store = new EntitlementStore({ tableName, client });

    // Act
    const outcome = await store.apply('solo', change({ familyId: '' }));

    // Assess
    expect(outcome).toBe('applied');
    client.destroy();
  });

  it('refuses an empty user id to apply and to list', async () => {
    // Prepare
    const client = containerClient(dynamo.endpoint);
    const store = new EntitlementStore({ tableName, client });

    // Act
    const applied = await store.apply('', change()).catch((error: unknown) => error);
    const listed = await store.list('').catch((error: unknown) => error);

    // Assess
    expect(applied).toMatchObject({ code: 'ENTITLEMENT_INVALID_CHANGE', message: 'user id must be a non-empty string, got "" (event evt_1)' });
    expect(listed).toMatchObject({ code: 'ENTITLEMENT_INVALID_USER_ID', message: 'user id must be a non-empty string, got ""' });
    client.destroy();
  });

  it.each([
    { options: { tableName: '' }, message: 'table name must be a non-empty string, got ""' },
    { options: { tableName: 't-1', concurrency: 0 }, message: 'concurrency must be a positive integer, got 0' },
    { options: { tableName: 't-1', concurrency: 2.5 }, message: 'concurrency must be a positive integer, got 2.5' },
  ])('refuses the options $options', ({ options, message }) => {
    // Act
    const construct = () => new EntitlementStore(options);

    // Assess
    expect(construct).toThrow(expect.objectContaining({ code: 'ENTITLEMENT_INVALID_OPTIONS', message }));
  });
});
