/**
 * The Stripe object schemas are typed against stripe-node's types: a field path Stripe does not
 * have, or a schema whose type does not fit the field, fails `tsc` (`npm test` type-checks first).
 * Each `@ts-expect-error` below is itself checked: if the line compiled, tsc would fail on the
 * unused directive.
 */
import type Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import type { StripeFields } from '../../../../../functions/payment-webhook/stripe/stripe-fields.js';
import { STRIPE_API_VERSION } from '../../../../../functions/payment-webhook/stripe/stripe-api-version.js';
import { Invoice } from '../../../../../functions/payment-webhook/stripe/stripe-objects.js';

describe('StripeFields', () => {
  it('refuses, at compile time, a field Stripe does not have and a type that does not fit', () => {
    // @ts-expect-error: invoices have `subscription_details` (2023-10-16) and `parent`, never `subscription_detail`
    const misspelt = { subscription_detail: z.string() } satisfies StripeFields<Stripe.Invoice>;
    // @ts-expect-error: `customer` is an id or an object, never a number
    const mistyped = { customer: z.number() } satisfies StripeFields<Stripe.Invoice>;
    // @ts-expect-error: since 2025-03-31 the newest invoice type has no top-level `subscription`
    const moved = { subscription: z.string() } satisfies StripeFields<Stripe.Invoice>;
    const right = { parent: z.object({ subscription_details: z.object({ subscription: z.string() }) }) } satisfies StripeFields<Stripe.Invoice>;

    expect([misspelt, mistyped, moved, right].map((shape) => Object.keys(shape))).toEqual([['subscription_detail'], ['customer'], ['subscription'], ['parent']]);
  });

  it('pins the API version stripe-node describes, and validates at run time what the types only promise', () => {
    expect(STRIPE_API_VERSION).toBe('2026-10-28.endive');
    expect(Invoice.safeParse({ id: 'in_1', parent: { subscription_details: { subscription: 42 } } }).success).toBe(false);
  });
});
