// A namespace import lets esbuild keep only the zod in use; `import { z }` bundles every locale (~370 KB).
import * as z from 'zod';

/**
 * The SQS message body the payment webhook sends and grant-entitlements consumes: one verified
 * Stripe event, reduced to what granting or revoking needs. `eventCreated` (Stripe's `created`,
 * seconds) orders effects: an older event never overwrites a newer one. Unknown keys are stripped,
 * so a field added later does not break a consumer that does not know it yet.
 *
 * The message also carries the string attributes `eventType` and `eventId`.
 */
export const EntitlementCommand = z.object({
  action: z.enum(['grant', 'revoke']),
  /** Stripe's event id, `evt_…`: the idempotency key of the effect. */
  eventId: z.string().regex(/^evt_\w+$/),
  eventType: z.string().min(1),
  /** Stripe's `created`, in seconds since the epoch. */
  eventCreated: z.number().int().nonnegative(),
  /** The user who paid: `metadata.user_id` of the event's object. */
  purchaserId: z.string().min(1),
  entitlement: z.string().min(1),
});

export type EntitlementCommand = z.infer<typeof EntitlementCommand>;

export type EntitlementAction = EntitlementCommand['action'];
