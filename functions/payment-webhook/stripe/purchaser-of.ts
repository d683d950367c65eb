import type { ActiveEntitlementSummary, Charge, CheckoutSession, Dispute, Invoice, Subscription } from './stripe-objects.js';

/** Who an event's object belongs to, as far as the object itself says. */
export interface PurchaserReference {
  /** The user named in the object (README's purchaser table), when it names one. */
  userId: string | undefined;
  /** Ids of the Stripe objects it belongs to, most specific first: linked to, or resolved through. */
  stripeRefs: string[];
}

type Metadata = Readonly<Record<string, string>> | null | undefined;

/** The first non-empty value. */
function first(...values: (string | null | undefined)[]): string | undefined {
  return values.find((v): v is string => typeof v === 'string' && v !== '');
}

function refs(...ids: (string | null | undefined)[]): string[] {
  return [...new Set(ids.filter((id): id is string => typeof id === 'string' && id !== ''))];
}

const userOf = (metadata: Metadata) => metadata?.['user_id'];

/** Checkout Session: `client_reference_id`, then `metadata.user_id`. */
export function purchaserOfCheckoutSession(session: CheckoutSession): PurchaserReference {
  return {
    userId: first(session.client_reference_id, userOf(session.metadata)),
    stripeRefs: refs(session.subscription, session.customer, session.payment_intent),
  };
}

/** Subscription: `metadata.user_id` (set through Checkout's `subscription_data.metadata`). */
export function purchaserOfSubscription(subscription: Subscription): PurchaserReference {
  return { userId: first(userOf(subscription.metadata)), stripeRefs: refs(subscription.id, subscription.customer) };
}

/** The subscription an invoice belongs to: `parent.subscription_details.subscription` (2025-03-31+) or `subscription`. */
export function subscriptionOfInvoice(invoice: Invoice): string | undefined {
  return first(invoice.parent?.subscription_details?.subscription, invoice.subscription);
}

/**
 * Invoice: `parent.subscription_details.metadata.user_id` (2025-03-31+), then
 * `subscription_details.metadata.user_id` (mid-2023 to early 2025), then `metadata.user_id`.
 */
export function purchaserOfInvoice(invoice: Invoice): PurchaserReference {
  return {
    userId: first(
      userOf(invoice.parent?.subscription_details?.metadata),
      userOf(invoice.subscription_details?.metadata),
      userOf(invoice.metadata),
    ),
    stripeRefs: refs(subscriptionOfInvoice(invoice), invoice.customer, invoice.payment_intent, invoice.charge),
  };
}

/** Charge: `metadata.user_id`, else its customer, payment intent or itself through a link. */
export function purchaserOfCharge(charge: Charge): PurchaserReference {
  return { userId: first(userOf(charge.metadata)), stripeRefs: refs(charge.customer, charge.payment_intent, charge.id) };
}

/** Dispute: `metadata.user_id`, else its payment intent or charge through a link (a dispute names no customer). */
export function purchaserOfDispute(dispute: Dispute): PurchaserReference {
  return { userId: first(userOf(dispute.metadata)), stripeRefs: refs(dispute.payment_intent, dispute.charge) };
}

/** Entitlement summary: its customer, through a link (it carries no metadata). */
export function purchaserOfEntitlementSummary(summary: ActiveEntitlementSummary): PurchaserReference {
  return { userId: undefined, stripeRefs: refs(summary.customer) };
}
