import type Stripe from 'stripe';

/**
 * The Stripe API version the functions are written against: the one stripe-node's types (a
 * type-only devDependency) describe. Upgrading `stripe` without moving this pin fails `tsc`, so
 * the types and the version the code claims to read cannot drift apart.
 */
export const STRIPE_API_VERSION = '2026-10-28.endive' satisfies Stripe.LatestApiVersion;

/**
 * The oldest API version whose event shapes are read. Where a field moved since (an invoice's
 * subscription and its metadata, its line items' price), both places are read and both shapes
 * are tested; `api_version` of the endpoint decides which one Stripe sends.
 */
export const OLDEST_STRIPE_API_VERSION = '2023-10-16';
