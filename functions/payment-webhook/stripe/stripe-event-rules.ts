/**
 * What each handled Stripe event type does to entitlements (README, "What happens per event").
 * Every other type is acknowledged and ignored.
 */
import { EntitlementCommand } from '../entitlement-command.js';
import { WebhookError } from '../webhook-error.js';
import { entitlementNameOf, pricesOfInvoice, pricesOfSubscription } from './entitlement-name.js';
import { parseOrThrow } from './parse-stripe-object.js';
import {
  purchaserOfCharge,
  purchaserOfCheckoutSession,
  purchaserOfDispute,
  purchaserOfEntitlementSummary,
  purchaserOfInvoice,
  purchaserOfSubscription,
  type PurchaserReference,
} from './purchaser-of.js';
import type { StripeEventSettings } from './stripe-event-settings.js';
import { ActiveEntitlementSummary, Charge, CheckoutSession, Dispute, Invoice, Subscription } from './stripe-objects.js';

/** The envelope fields a rule needs. */
export interface StripeEventHeader {
  id: string;
  type: string;
  created: number;
}

/** What an event does, before it becomes a command: a change, or only a link (`none`). */
type Effect =
  | { action: 'grant'; entitlement: string; expiresAt?: number }
  | { action: 'revoke'; entitlement: string }
  | { action: 'sync'; entitlements: string[]; entitlementsComplete?: false }
  | { action: 'none' };

type Rule = (object: unknown, event: StripeEventHeader, settings: StripeEventSettings) => { purchaser: PurchaserReference; effect: Effect };

const OBJECT_PATH = ['data', 'object'] as const;
const NONE: Effect = { action: 'none' };

/** Subscription statuses that grant; `past_due` keeps (see `pastDueGraceSeconds`), `incomplete` and unknown ones change nothing. */
const GRANTING_STATUSES = new Set(['active', 'trialing']);
const REVOKING_STATUSES = new Set(['unpaid', 'canceled', 'incomplete_expired', 'paused']);

function checkoutSession(grantWhen: (session: CheckoutSession) => boolean): Rule {
  return (object, _event, settings) => {
    const session = parseOrThrow(CheckoutSession, object, OBJECT_PATH);
    const entitlement = entitlementNameOf([session.metadata], [], settings);
    return { purchaser: purchaserOfCheckoutSession(session), effect: grantWhen(session) ? { action: 'grant', entitlement } : NONE };
  };
}

const subscriptionLifecycle: Rule = (object, event, settings) => {
  const subscription = parseOrThrow(Subscription, object, OBJECT_PATH);
  const entitlement = entitlementNameOf([subscription.metadata], pricesOfSubscription(subscription), settings);
  const { status } = subscription;
  let effect: Effect = NONE;
  if (GRANTING_STATUSES.has(status)) effect = { action: 'grant', entitlement };
  else if (REVOKING_STATUSES.has(status)) effect = { action: 'revoke', entitlement };
  else if (status === 'past_due' && settings.pastDueGraceSeconds !== undefined) {
    // Kept, but only until the grace ends: a grant that lapses, read as revoked after that.
    effect = { action: 'grant', entitlement, expiresAt: event.created + settings.pastDueGraceSeconds };
  }
  return { purchaser: purchaserOfSubscription(subscription), effect };
};

function invoice(grants: boolean): Rule {
  return (object, _event, settings) => {
    const parsed = parseOrThrow(Invoice, object, OBJECT_PATH);
    const metadatas = [parsed.parent?.subscription_details?.metadata, parsed.subscription_details?.metadata, parsed.metadata];
    const entitlement = entitlementNameOf(metadatas, pricesOfInvoice(parsed), settings);
    return { purchaser: purchaserOfInvoice(parsed), effect: grants ? { action: 'grant', entitlement } : NONE };
  };
}

const chargeRefunded: Rule = (object, _event, settings) => {
  const charge = parseOrThrow(Charge, object, OBJECT_PATH);
  const entitlement = entitlementNameOf([charge.metadata], [], settings);
  // `refunded` is true only once the whole amount is back: a partial refund changes nothing.
  const revokes = charge.refunded && settings.revokeOnRefund;
  return { purchaser: purchaserOfCharge(charge), effect: revokes ? { action: 'revoke', entitlement } : NONE };
};

const disputeCreated: Rule = (object, _event, settings) => {
  const dispute = parseOrThrow(Dispute, object, OBJECT_PATH);
  const entitlement = entitlementNameOf([dispute.metadata], [], settings);
  return { purchaser: purchaserOfDispute(dispute), effect: settings.revokeOnDispute ? { action: 'revoke', entitlement } : NONE };
};

const entitlementSummaryUpdated: Rule = (object) => {
  const summary = parseOrThrow(ActiveEntitlementSummary, object, OBJECT_PATH);
  const entitlements = [...new Set(summary.entitlements.data.map((e) => e.lookup_key))];
  // A summary with more pages than the event carries cannot say what the customer no longer holds.
  const effect: Effect = summary.entitlements.has_more ? { action: 'sync', entitlements, entitlementsComplete: false } : { action: 'sync', entitlements };
  return { purchaser: purchaserOfEntitlementSummary(summary), effect };
};

/** The handled event types and their rules. */
export const STRIPE_EVENT_RULES: Readonly<Record<string, Rule>> = {
  'checkout.session.completed': checkoutSession((s) => s.payment_status === 'paid' || s.payment_status === 'no_payment_required'),
  'checkout.session.async_payment_succeeded': checkoutSession(() => true),
  'checkout.session.async_payment_failed': checkoutSession(() => false),
  'customer.subscription.created': subscriptionLifecycle,
  'customer.subscription.updated': subscriptionLifecycle,
  'customer.subscription.deleted': subscriptionLifecycle,
  'invoice.paid': invoice(true),
  'invoice.payment_failed': invoice(false),
  'charge.refunded': chargeRefunded,
  'charge.dispute.created': disputeCreated,
  'entitlements.active_entitlement_summary.updated': entitlementSummaryUpdated,
};

/** True when `type` is one of the handled event types. */
export function isHandledStripeEventType(type: string): boolean {
  return Object.hasOwn(STRIPE_EVENT_RULES, type);
}

/**
 * The command for a verified Stripe event, or `undefined` when it changes nothing and records
 * nothing: an unhandled type, or a handled one that changes no entitlement and names no user to
 * link. A handled event that changes something is a command even when it names no user: the
 * purchaser is then resolved at grant time, and an unresolvable one ends in the DLQ.
 *
 * @throws {WebhookError} `WEBHOOK_EVENT_INVALID` naming the field when `data.object` is not the
 *   object the type carries (e.g. `data.object.status is required` for a subscription event).
 */
export function commandForStripeEvent(
  event: StripeEventHeader,
  json: unknown,
  settings: StripeEventSettings,
): EntitlementCommand | undefined {
  const rule = isHandledStripeEventType(event.type) ? STRIPE_EVENT_RULES[event.type] : undefined;
  if (rule === undefined) return undefined;
  const { purchaser, effect } = rule(objectOf(json), event, settings);
  if (effect.action === 'none' && (purchaser.userId === undefined || purchaser.stripeRefs.length === 0)) return undefined;
  const { action: _none, ...change } = effect;
  return validCommand({
    eventId: event.id,
    eventType: event.type,
    eventCreated: event.created,
    ...(purchaser.userId === undefined ? {} : { purchaserId: purchaser.userId }),
    ...(purchaser.stripeRefs.length === 0 ? {} : { stripeRefs: purchaser.stripeRefs }),
    ...change,
    action: effect.action === 'none' ? 'link' : effect.action,
  });
}

/**
 * The command, checked as grant-entitlements will read it: what a signed event carries (an
 * entitlement name the table reserves, an id that is not a Stripe id) must be a 400, not a queue
 * failure that Stripe would retry for days.
 */
function validCommand(command: EntitlementCommand): EntitlementCommand {
  const parsed = EntitlementCommand.safeParse(command);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new WebhookError(
    'WEBHOOK_EVENT_INVALID',
    `stripe event ${command.eventId}: its ${issue?.path.join('.') || 'command'} ${issue?.message ?? 'is invalid'}`,
  );
}

/** `data.object`, or `undefined` when the event has none (reported as a missing field). */
function objectOf(json: unknown): unknown {
  const data = (json as { data?: unknown }).data;
  return typeof data === 'object' && data !== null ? (data as { object?: unknown }).object : undefined;
}
