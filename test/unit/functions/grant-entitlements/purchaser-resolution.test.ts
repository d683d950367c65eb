import { describe, expect, it, vi } from 'vitest';
import { linkPurchaser, resolvePurchaser, type PurchaserLinks } from '../../../../functions/grant-entitlements/purchaser-resolution.js';
import { PurchaserUnresolvedError } from '../../../../functions/grant-entitlements/purchaser-unresolved-error.js';
import type { EntitlementCommand } from '../../../../functions/payment-webhook/entitlement-command.js';

const base: EntitlementCommand = { action: 'revoke', eventId: 'evt_1', eventType: 'charge.refunded', eventCreated: 1_767_225_600, entitlement: 'premium_features' };

function links(known: Record<string, string> = {}): PurchaserLinks & { link: ReturnType<typeof vi.fn> } {
  return {
    link: vi.fn(async () => undefined),
    userOf: async (refs) => {
      const ref = refs.find((r) => known[r] !== undefined);
      return ref === undefined ? undefined : { ref, userId: known[ref]! };
    },
  };
}

describe('resolvePurchaser', () => {
  it('takes the user the event names, and links its Stripe objects to that user as of the event', async () => {
    const store = links();

    const command = { ...base, purchaserId: 'user-1', stripeRefs: ['sub_A', 'cus_A'] };
    const resolved = await resolvePurchaser(command, store);
    await linkPurchaser(command, store);

    expect(resolved).toEqual({ userId: 'user-1', via: 'event' });
    expect(store.link).toHaveBeenCalledWith(['sub_A', 'cus_A'], 'user-1', expect.objectContaining({ eventId: 'evt_1', eventCreated: 1_767_225_600 }));
  });

  it('links nothing for an event that names no user', async () => {
    const store = links({ cus_A: 'user-2' });

    await linkPurchaser({ ...base, stripeRefs: ['cus_A'] }, store);

    expect(store.link).not.toHaveBeenCalled();
  });

  it('resolves an event that names no user through the first of its objects that is linked', async () => {
    expect(await resolvePurchaser({ ...base, stripeRefs: ['pi_A', 'cus_A'] }, links({ cus_A: 'user-2' }))).toEqual({ userId: 'user-2', via: 'cus_A' });
  });

  it('fails GRANT_PURCHASER_UNRESOLVED naming the event and its objects when none is linked yet', async () => {
    const error = await resolvePurchaser({ ...base, stripeRefs: ['cus_B'] }, links()).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(PurchaserUnresolvedError);
    expect(error).toMatchObject({
      code: 'GRANT_PURCHASER_UNRESOLVED',
      message: 'event evt_1 names no user, and none of its stripe objects (cus_B) is linked to one yet',
    });
  });

  it('fails the same way for an event that names neither a user nor an object, or without a link store', async () => {
    await expect(resolvePurchaser(base, links())).rejects.toMatchObject({ code: 'GRANT_PURCHASER_UNRESOLVED' });
    await expect(resolvePurchaser({ ...base, stripeRefs: ['cus_A'] }, undefined)).rejects.toMatchObject({ code: 'GRANT_PURCHASER_UNRESOLVED' });
  });
});
