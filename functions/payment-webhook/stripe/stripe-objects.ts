/**
 * The Stripe objects the handled events carry, as far as the functions read them: typed against
 * stripe-node's published types (`StripeFields`, so a wrong field path fails `tsc`) and validated
 * at run time with zod. Fields Stripe may leave out or null are optional and nullable; unknown
 * fields are ignored (Stripe adds fields without a new API version).
 *
 * Fields that moved between API versions are read in both places: the 2023-10-16 ones are typed
 * by the `…Before2025` interfaces below, from Stripe's OpenAPI spec of that version
 * (stripe/openapi `openapi/spec3.json`), since stripe-node's types describe only the newest.
 */
import type Stripe from 'stripe';
// A namespace import lets esbuild keep only the zod in use; `import { z }` bundles every locale (~370 KB).
import * as z from 'zod';
import type { StripeFields } from './stripe-fields.js';

/**
 * Invoice fields of API versions before 2025-03-31 (basil), which moved the subscription and its
 * metadata to `parent.subscription_details` and dropped `charge` and `payment_intent` (now the
 * invoice's `payments`).
 */
export interface InvoiceBefore2025 {
  subscription: string | Stripe.Subscription | null;
  subscription_details: { metadata: Stripe.Metadata | null } | null;
  payment_intent: string | Stripe.PaymentIntent | null;
  charge: string | Stripe.Charge | null;
}

/** Invoice line item fields before 2025-03-31: the price itself, since moved to `pricing.price_details`. */
export interface InvoiceLineItemBefore2025 {
  price: Stripe.Price | null;
}

/** An id field that webhooks send as the id; an expanded object (from an API call) gives its id. */
const objectId = z.union([z.string().min(1), z.object({ id: z.string().min(1) }).transform((o) => o.id)]);

/** Stripe metadata: string values by key. */
const metadata = z.record(z.string(), z.string()).nullable().optional();

const Price = z.object({
  id: z.string(),
  lookup_key: z.string().nullable().optional(),
  product: objectId.optional(),
} satisfies StripeFields<Stripe.Price>);

const SubscriptionItem = z.object({
  price: Price.nullable().optional(),
} satisfies StripeFields<Stripe.SubscriptionItem>);

export const CheckoutSession = z.object({
  id: z.string(),
  client_reference_id: z.string().nullable().optional(),
  customer: objectId.nullable().optional(),
  subscription: objectId.nullable().optional(),
  payment_intent: objectId.nullable().optional(),
  payment_status: z.string(),
  metadata,
} satisfies StripeFields<Stripe.Checkout.Session>);
export type CheckoutSession = z.infer<typeof CheckoutSession>;

export const Subscription = z.object({
  id: z.string(),
  customer: objectId,
  status: z.string(),
  metadata,
  items: z.object({ data: z.array(SubscriptionItem) } satisfies StripeFields<Stripe.ApiList<Stripe.SubscriptionItem>>).optional(),
} satisfies StripeFields<Stripe.Subscription>);
export type Subscription = z.infer<typeof Subscription>;

type InvoiceParent = NonNullable<Stripe.Invoice['parent']>;
type InvoicePricing = NonNullable<Stripe.InvoiceLineItem['pricing']>;

const InvoiceLineItem = z.object({
  pricing: z
    .object({
      price_details: z
        .object({
          price: objectId,
          product: z.string(),
        } satisfies StripeFields<NonNullable<InvoicePricing['price_details']>>)
        .optional(),
    } satisfies StripeFields<InvoicePricing>)
    .nullable()
    .optional(),
  price: Price.nullable().optional(),
} satisfies StripeFields<Stripe.InvoiceLineItem & InvoiceLineItemBefore2025>);

export const Invoice = z.object({
  id: z.string(),
  customer: objectId.nullable().optional(),
  metadata,
  parent: z
    .object({
      subscription_details: z
        .object({
          metadata,
          subscription: objectId,
        } satisfies StripeFields<NonNullable<InvoiceParent['subscription_details']>>)
        .nullable()
        .optional(),
    } satisfies StripeFields<InvoiceParent>)
    .nullable()
    .optional(),
  subscription: objectId.nullable().optional(),
  subscription_details: z.object({ metadata }).nullable().optional(),
  payment_intent: objectId.nullable().optional(),
  charge: objectId.nullable().optional(),
  lines: z.object({ data: z.array(InvoiceLineItem) } satisfies StripeFields<Stripe.ApiList<Stripe.InvoiceLineItem>>).optional(),
} satisfies StripeFields<Stripe.Invoice & InvoiceBefore2025>);
export type Invoice = z.infer<typeof Invoice>;

export const Charge = z.object({
  id: z.string(),
  customer: objectId.nullable().optional(),
  payment_intent: objectId.nullable().optional(),
  metadata,
  /** True only once the whole amount is refunded; a partial refund leaves it false. */
  refunded: z.boolean(),
} satisfies StripeFields<Stripe.Charge>);
export type Charge = z.infer<typeof Charge>;

export const Dispute = z.object({
  id: z.string(),
  charge: objectId,
  payment_intent: objectId.nullable().optional(),
  metadata,
} satisfies StripeFields<Stripe.Dispute>);
export type Dispute = z.infer<typeof Dispute>;

export const ActiveEntitlementSummary = z.object({
  customer: z.string(),
  entitlements: z.object({
    data: z.array(z.object({ lookup_key: z.string().min(1) } satisfies StripeFields<Stripe.Entitlements.ActiveEntitlement>)),
    has_more: z.boolean().optional(),
  } satisfies StripeFields<Stripe.Entitlements.ActiveEntitlementSummary['entitlements']>),
} satisfies StripeFields<Stripe.Entitlements.ActiveEntitlementSummary>);
export type ActiveEntitlementSummary = z.infer<typeof ActiveEntitlementSummary>;
