import type { StripeEventSettings } from './stripe-event-settings.js';
import type { Invoice, Subscription } from './stripe-objects.js';

type Metadata = Readonly<Record<string, string>> | null | undefined;

/** A price as items and lines name it: its `lookup_key` and product id, where the version carries them. */
export interface PriceKeys {
  lookupKey?: string | null | undefined;
  product?: string | null | undefined;
}

/**
 * The entitlement an object names: `metadata.entitlement` of the first metadata in `metadatas`
 * that has one (the same places, in the same order, as the purchaser), else the first price whose
 * `lookup_key` or product id `settings.entitlementMap` maps, else `settings.defaultEntitlement`.
 */
export function entitlementNameOf(
  metadatas: readonly Metadata[],
  prices: readonly PriceKeys[],
  settings: Pick<StripeEventSettings, 'defaultEntitlement' | 'entitlementMap'>,
): string {
  for (const metadata of metadatas) {
    const named = metadata?.['entitlement'];
    if (named) return named;
  }
  const map = settings.entitlementMap;
  for (const price of prices) {
    for (const key of [price.lookupKey, price.product]) {
      if (key && Object.hasOwn(map, key)) return map[key]!;
    }
  }
  return settings.defaultEntitlement;
}

/** A subscription's prices, from its items. */
export function pricesOfSubscription(subscription: Subscription): PriceKeys[] {
  return (subscription.items?.data ?? []).map((item) => ({ lookupKey: item.price?.lookup_key, product: item.price?.product }));
}

/**
 * An invoice's prices, from its lines: `pricing.price_details.product` (2025-03-31+, which has
 * the price only as an id, so no `lookup_key`), or the line's `price` (before).
 */
export function pricesOfInvoice(invoice: Invoice): PriceKeys[] {
  return (invoice.lines?.data ?? []).map((line) =>
    line.price
      ? { lookupKey: line.price.lookup_key, product: line.price.product }
      : { product: line.pricing?.price_details?.product },
  );
}
