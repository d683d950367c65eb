// A namespace import lets esbuild keep only the zod in use; `import { z }` bundles every locale (~370 KB).
import * as z from 'zod';

/**
 * An entitlement's name: the table's sort key. Names starting with `#` are reserved for the
 * table's other item types (the Stripe links), so no entitlement can collide with them.
 */
export const EntitlementName = z.string().min(1).regex(/^[^#]/, 'must not start with #');

/**
 * What an event does:
 * - `grant` / `revoke`: sets `entitlement` for every member of the purchaser's family;
 * - `sync`: makes the family's Stripe-feature entitlements exactly `entitlements` (a Stripe
 *   Entitlements summary): grants those listed, revokes those granted through Stripe features
 *   before and no longer listed;
 * - `link`: changes no entitlement, only records which user the event's Stripe objects belong to.
 */
export const ENTITLEMENT_ACTIONS = ['grant', 'revoke', 'sync', 'link'] as const;

/**
 * The SQS message body the payment webhook sends and grant-entitlements consumes: one verified
 * Stripe event, reduced to what granting or revoking needs. `eventCreated` (Stripe's `created`,
 * seconds) orders effects: an older event never overwrites a newer one. Unknown keys are stripped,
 * so a field added later does not break a consumer that does not know it yet; a body of the
 * earlier shape (`purchaserId`, `action`, `entitlement`) is still one.
 *
 * The purchaser is `purchaserId` when the event names the user; otherwise grant-entitlements
 * resolves it from `stripeRefs` through the links earlier events recorded. An event that names
 * neither is still a command: it fails at grant time with `GRANT_PURCHASER_UNRESOLVED` and ends
 * in the DLQ, so nothing is dropped silently.
 *
 * The message also carries the string attributes `eventType` and `eventId`.
 */
export const EntitlementCommand = z
  .object({
    action: z.enum(ENTITLEMENT_ACTIONS),
    /** Stripe's event id, `evt_…`: the idempotency key of the effect. */
    eventId: z.string().regex(/^evt_\w+$/),
    eventType: z.string().min(1),
    /** Stripe's `created`, in seconds since the epoch. */
    eventCreated: z.number().int().nonnegative(),
    /** The user who paid, when the event names one (see README's purchaser table). */
    purchaserId: z.string().min(1).optional(),
    /**
     * Ids of the Stripe objects the event belongs to (`sub_…`, `cus_…`, `pi_…`, `ch_…`), most
     * specific first: linked to `purchaserId` when it is known, resolved through otherwise.
     */
    stripeRefs: z.array(z.string().regex(/^[a-z]+_\w+$/)).max(8).optional(),
    /** `grant` / `revoke`: the entitlement. */
    entitlement: EntitlementName.optional(),
    /** `sync`: the Stripe feature lookup keys the customer holds now. */
    entitlements: z.array(EntitlementName).max(100).optional(),
    /**
     * `sync`: false when the summary listed only part of the features (`has_more`): those listed
     * are granted, and nothing is revoked on its word.
     */
    entitlementsComplete: z.boolean().optional(),
    /** `grant`: the grant lapses at this time (epoch seconds), e.g. the end of a past-due grace. */
    expiresAt: z.number().int().nonnegative().optional(),
  })
  .check((ctx) => {
    const { action, entitlement, entitlements } = ctx.value;
    if ((action === 'grant' || action === 'revoke') && entitlement === undefined) {
      ctx.issues.push({ code: 'custom', input: entitlement, path: ['entitlement'], message: `is required for ${action}` });
    }
    if (action === 'sync' && entitlements === undefined) {
      ctx.issues.push({ code: 'custom', input: entitlements, path: ['entitlements'], message: 'is required for sync' });
    }
  });

export type EntitlementCommand = z.infer<typeof EntitlementCommand>;

export type EntitlementAction = EntitlementCommand['action'];

/** A command that grants or revokes one entitlement for a user the event names. */
export type MemberEntitlementCommand = EntitlementCommand & {
  action: 'grant' | 'revoke';
  purchaserId: string;
  entitlement: string;
};
