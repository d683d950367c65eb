// The entitlements store's public surface: re-exports only.
export {
  ACTION_RANK,
  compareEventOrder,
  type ApplyOutcome,
  type Entitlement,
  type EntitlementChange,
  type EventOrder,
} from './entitlement-change.js';
export {
  EntitlementStore,
  ENTITLEMENT_STORE_DEFAULTS,
  type EntitlementStoreOptions,
} from './entitlement-store.js';
export {
  EntitlementStoreError,
  isEntitlementStoreError,
  type EntitlementStoreErrorCode,
  type EntitlementStoreErrorDetails,
} from './entitlement-store-error.js';
export { defaultEntitlementsClient } from './entitlements-client.js';
export { createEntitlementsTable, ENTITLEMENT_ATTRIBUTES } from './entitlements-table.js';
export { entitlementsTableFromEnv, entitlementsWriteConcurrencyFromEnv } from './entitlements-table-env.js';
export {
  StripeLinkStore,
  STRIPE_ITEM_PREFIX,
  LINK_SORT_KEY,
  FEATURES_SORT_KEY,
  type FeatureSummary,
  type LinkOrder,
  type StripeLinkStoreOptions,
} from './stripe-links.js';
