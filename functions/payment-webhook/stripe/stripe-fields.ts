import type * as z from 'zod';

/**
 * A value of Stripe type `V` as this project reads it: any subset of its fields, at any depth.
 * Expandable fields (`string | Customer`) accept the id alone, as webhooks send them.
 */
export type StripeSubset<V> = V extends string | number | boolean | null | undefined
  ? V
  : V extends readonly (infer E)[]
    ? StripeSubset<E>[]
    : { [K in keyof V]?: StripeSubset<V[K]> | null };

/**
 * The zod fields of a schema for some fields of Stripe type `T`. Used as
 * `z.object({ … } satisfies StripeFields<Stripe.Invoice>)`: a field name `T` does not have fails
 * `tsc` (an object literal's excess-property check), and so does a schema whose output type does
 * not fit the field's type. A schema may accept `null` where the type does not: reading leniently
 * what an older API version left empty costs nothing. zod still validates at run time what the
 * types only promise.
 */
export type StripeFields<T> = { [K in keyof T]?: z.ZodType<StripeSubset<T[K]> | null | undefined> };
