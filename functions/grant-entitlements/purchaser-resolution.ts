import type { EntitlementCommand } from '../payment-webhook/entitlement-command.js';
import { PurchaserUnresolvedError } from './purchaser-unresolved-error.js';

/** What resolving a purchaser needs from storage: the Stripe links (`StripeLinkStore` is one). */
export interface PurchaserLinks {
  link(refs: readonly string[], userId: string, order: { eventId: string; eventCreated: number }): Promise<void>;
  userOf(refs: readonly string[]): Promise<{ ref: string; userId: string } | undefined>;
}

/** Who an event's purchaser is, and how that was learnt. */
export interface ResolvedPurchaser {
  userId: string;
  /** `event`: the event names the user; otherwise the Stripe id it was resolved through. */
  via: 'event' | string;
}

/**
 * The command's purchaser: the user the event names; else the user the first linked Stripe object
 * belongs to.
 *
 * @throws {PurchaserUnresolvedError} `GRANT_PURCHASER_UNRESOLVED` when the event names no user and
 *   none of its Stripe objects is linked yet (or no link store is configured).
 * @throws {EntitlementStoreError} when reading a link fails (retryable).
 */
export async function resolvePurchaser(command: EntitlementCommand, links: PurchaserLinks | undefined): Promise<ResolvedPurchaser> {
  const refs = command.stripeRefs ?? [];
  if (command.purchaserId !== undefined) return { userId: command.purchaserId, via: 'event' };
  const linked = links && refs.length > 0 ? await links.userOf(refs) : undefined;
  if (linked === undefined) throw new PurchaserUnresolvedError(command.eventId, refs);
  return { userId: linked.userId, via: linked.ref };
}

/**
 * Links the Stripe objects of an event that names its user to that user (conditional and
 * event-ordered, so an older event never re-links them); nothing for an event that names none.
 *
 * @throws {EntitlementStoreError} when writing a link fails (retryable: the links are idempotent).
 */
export async function linkPurchaser(command: EntitlementCommand, links: PurchaserLinks | undefined): Promise<void> {
  const refs = command.stripeRefs ?? [];
  if (command.purchaserId === undefined || links === undefined || refs.length === 0) return;
  await links.link(refs, command.purchaserId, command);
}
