/** How Stripe events map onto entitlements: the settings of payment-webhook's event rules. */
export interface StripeEventSettings {
  /** Granted or revoked when neither metadata nor `entitlementMap` names an entitlement. */
  defaultEntitlement: string;
  /**
   * Stripe price `lookup_key` or product id (`prod_…`) → entitlement: how a subscription's
   * items or an invoice's lines name the entitlement when the metadata does not.
   */
  entitlementMap: Readonly<Record<string, string>>;
  /** A full refund (`charge.refunded` with `refunded: true`) revokes. */
  revokeOnRefund: boolean;
  /** A dispute (`charge.dispute.created`) revokes. */
  revokeOnDispute: boolean;
  /**
   * How long a `past_due` subscription keeps its entitlement, in seconds from the event's
   * `created`; `undefined` keeps it until the status changes.
   */
  pastDueGraceSeconds: number | undefined;
}

export const STRIPE_EVENT_SETTINGS_DEFAULTS: StripeEventSettings = {
  defaultEntitlement: 'premium_features',
  entitlementMap: {},
  revokeOnRefund: true,
  revokeOnDispute: true,
  pastDueGraceSeconds: undefined,
};
