import { describe, expect, it, vi } from 'vitest';
import { grantEntitlements, type FamilyDirectory } from '../../../../functions/grant-entitlements/grant-entitlements.js';
import { commandOfRecord, grantRecord, PoisonedRecordError } from '../../../../functions/grant-entitlements/grant-record.js';
import type { ApplyOutcome, EntitlementChange } from '../../../../shared/entitlements/entitlement-change.js';
import { MeshCallError } from '../../../../shared/errors.js';

const contact = (id: string, familyId: string) => ({ id, name: id, email: `${id}@x.test`, familyId });
const grant = {
  action: 'grant' as const,
  eventId: 'evt_1',
  eventType: 'invoice.paid',
  eventCreated: 1_700_000_000,
  purchaserId: 'u-1',
  entitlement: 'premium_features',
};

function writer(outcomes: Record<string, ApplyOutcome> = {}) {
  return {
    applyToMembers: vi.fn(async (ids: readonly string[], _change: EntitlementChange) => new Map(ids.map((id) => [id, outcomes[id] ?? 'applied']))),
  };
}

function directory(members: Record<string, ReturnType<typeof contact>[]>, users: ReturnType<typeof contact>[]): FamilyDirectory {
  return {
    getUserInfo: async (id) => {
      const user = users.find((u) => u.id === id);
      if (!user) throw new MeshCallError('MESH_NOT_FOUND', `user ${id} not found`, { service: 'contact-service', method: 'GetUserInfo' });
      return user;
    },
    getFamilyMembers: async (familyId) => members[familyId] ?? [],
  };
}

describe('grantEntitlements', () => {
  it('writes every family member with the event\'s ordering fields and sorts the outcomes', async () => {
    const store = writer({ 'u-2': 'duplicate', 'u-3': 'superseded' });
    const users = [contact('u-1', 'f-1'), contact('u-2', 'f-1'), contact('u-3', 'f-1')];

    const result = await grantEntitlements(grant, { directory: directory({ 'f-1': users }, users), store });

    expect(store.applyToMembers).toHaveBeenCalledWith(['u-1', 'u-2', 'u-3'], { ...grant, familyId: 'f-1' });
    expect(result).toMatchObject({ members: 3, applied: ['u-1'], duplicate: ['u-2'], superseded: ['u-3'], familyId: 'f-1' });
  });

  it('treats a purchaser without a family as the only member', async () => {
    const store = writer();
    const getFamilyMembers = vi.fn();

    const result = await grantEntitlements(grant, { directory: { getUserInfo: async () => contact('u-1', ''), getFamilyMembers }, store });

    expect(getFamilyMembers).not.toHaveBeenCalled();
    expect(result.applied).toEqual(['u-1']);
  });

  it('includes the purchaser even when the family listing leaves them out', async () => {
    const store = writer();
    const users = [contact('u-1', 'f-1')];

    const result = await grantEntitlements(grant, { directory: directory({ 'f-1': [contact('u-9', 'f-1')] }, users), store });

    expect(result.applied).toEqual(['u-1', 'u-9']);
  });
});

describe('grantRecord', () => {
  it.each([
    ['not JSON', '{oops', 'GRANT_RECORD_NOT_JSON'],
    ['missing fields', JSON.stringify({ action: 'grant' }), 'GRANT_RECORD_INVALID'],
    ['a bad event id', JSON.stringify({ ...grant, eventId: 'nope' }), 'GRANT_RECORD_INVALID'],
  ])('poisons a record that is %s', (_what, body, code) => {
    const error = (() => {
      try {
        commandOfRecord({ messageId: 'm-1', body });
      } catch (e) {
        return e as PoisonedRecordError;
      }
      throw new Error('expected a poisoned record');
    })();

    expect(error).toBeInstanceOf(PoisonedRecordError);
    expect(error.code).toBe(code);
    expect(error.messageId).toBe('m-1');
  });

  it('names the invalid fields without echoing the body', () => {
    expect(() => commandOfRecord({ messageId: 'm-2', body: JSON.stringify({ ...grant, eventCreated: 'soon' }) })).toThrow(/eventCreated/);
  });

  it('poisons an event whose purchaser the contact-service does not know', async () => {
    const error = (await grantRecord(
      { messageId: 'm-3', body: JSON.stringify({ ...grant, purchaserId: 'ghost' }) },
      { directory: directory({}, []), store: writer() },
    ).catch((e: unknown) => e)) as PoisonedRecordError;

    expect(error.code).toBe('GRANT_PURCHASER_UNKNOWN');
    expect((error.cause as MeshCallError).code).toBe('MESH_NOT_FOUND');
  });

  it('passes a mesh outage through as retryable', async () => {
    const outage = new MeshCallError('MESH_UNAVAILABLE', 'down', { service: 'contact-service', method: 'GetUserInfo' });

    const error = await grantRecord(
      { messageId: 'm-4', body: JSON.stringify(grant) },
      { directory: { getUserInfo: () => Promise.reject(outage), getFamilyMembers: vi.fn() }, store: writer() },
    ).catch((e: unknown) => e);

    expect(error).toBe(outage);
  });
});
