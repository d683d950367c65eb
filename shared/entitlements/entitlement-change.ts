import { EntitlementStoreError } from './entitlement-store-error.js';

/** What a payment event does to one entitlement of every member of the purchaser's family. */
export interface EntitlementChange {
  action: 'grant' | 'revoke';
  /** The entitlement's name, e.g. `premium`; the table's sort key. */
  entitlement: string;
  /** The provider event's id (`evt_…`): the unit of idempotency. */
  eventId: string;
  /** The provider event's `created`, epoch seconds: the order of events. */
  eventCreated: number;
  /** The provider event's type, e.g. `checkout.session.completed`; kept for audit. */
  eventType: string;
  purchaserId: string;
  /** The purchaser's family; empty when the purchaser has none (proto3's default). */
  familyId: string;
  /** A grant that lapses at this time (epoch seconds): read as revoked from then on. */
  expiresAt?: number | undefined;
}

/**
 * What applying a change to one member did:
 * - `applied`: the change took effect now;
 * - `duplicate`: this very event had already taken effect for this member;
 * - `superseded`: a later event (see `compareEventOrder`) had already taken effect, so this one
 *   must not, whether it grants or revokes.
 */
export type ApplyOutcome = 'applied' | 'duplicate' | 'superseded';

/** One member's entitlement as stored. */
export interface Entitlement {
  name: string;
  status: 'granted' | 'revoked';
  /** When the current, uninterrupted grant began; undefined while revoked. */
  grantedAt: string | undefined;
  /** When the last applied event took effect. */
  updatedAt: string;
  /** The last applied event. */
  eventId: string;
  /** When a lapsing grant (a past-due grace) ends; undefined for a grant that does not lapse. */
  expiresAt: string | undefined;
}

/**
 * The tie-break between a grant and a revoke with the same `eventCreated`: revoke ranks higher,
 * so it wins. Stripe's `created` has one-second resolution and a cancellation can land in the
 * same second as a payment; failing closed (revoked) is the safe reading, and a later grant
 * event re-grants.
 */
export const ACTION_RANK = { grant: 0, revoke: 1 } as const;

/** The position of an event in the order the store enforces. */
export interface EventOrder {
  eventCreated: number;
  action: EntitlementChange['action'];
  eventId: string;
}

/**
 * Compares two events in the store's total order: by `eventCreated`, then revoke over grant
 * (`ACTION_RANK`), then by `eventId` (code-unit order, which for Stripe's ASCII ids is the byte
 * order DynamoDB compares strings in). Negative when `a` comes first.
 *
 * The store enforces this order with a condition expression; this function states it for
 * callers and tests.
 */
export function compareEventOrder(a: EventOrder, b: EventOrder): number {
  if (a.eventCreated !== b.eventCreated) return a.eventCreated < b.eventCreated ? -1 : 1;
  const rank = ACTION_RANK[a.action] - ACTION_RANK[b.action];
  if (rank !== 0) return rank;
  if (a.eventId === b.eventId) return 0;
  return a.eventId < b.eventId ? -1 : 1;
}

/**
 * Checks a change for one user before anything is written.
 *
 * @throws EntitlementStoreError `ENTITLEMENT_INVALID_CHANGE`, naming the field and its value.
 */
export function assertValidChange(userId: unknown, change: EntitlementChange): void {
  assertValidUserId(userId, change);
  assertValidChangeFields(change);
}

/**
 * Checks the id of a user a change is applied to.
 *
 * @throws EntitlementStoreError `ENTITLEMENT_INVALID_CHANGE`, naming the value and the event.
 */
export function assertValidUserId(userId: unknown, change: EntitlementChange): void {
  requireNonEmpty('user id', userId, change);
}

/**
 * Checks the user-independent fields of a change.
 *
 * @throws EntitlementStoreError `ENTITLEMENT_INVALID_CHANGE`, naming the field and its value.
 */
export function assertValidChangeFields(change: EntitlementChange): void {
  if (change.action !== 'grant' && change.action !== 'revoke') {
    throw invalid(`action must be "grant" or "revoke", got ${show(change.action)}`, change);
  }
  requireNonEmpty('entitlement', change.entitlement, change);
  requireNonEmpty('eventId', change.eventId, change);
  requireNonEmpty('eventType', change.eventType, change);
  requireNonEmpty('purchaserId', change.purchaserId, change);
  if (typeof change.familyId !== 'string') {
    throw invalid(`familyId must be a string, got ${show(change.familyId)}`, change);
  }
  if (change.expiresAt !== undefined && (change.action !== 'grant' || !Number.isSafeInteger(change.expiresAt) || change.expiresAt < 0)) {
    throw invalid(`expiresAt must be whole epoch seconds on a grant, got ${show(change.expiresAt)} on a ${show(change.action)}`, change);
  }
  if (change.entitlement?.startsWith?.('#')) {
    throw invalid(`entitlement must not start with # (reserved for the table's other items), got ${show(change.entitlement)}`, change);
  }
  if (typeof change.eventCreated !== 'number' || !Number.isFinite(change.eventCreated)) {
    throw invalid(
      `eventCreated must be a finite number of epoch seconds, got ${show(change.eventCreated)}`,
      change,
    );
  }
}

function requireNonEmpty(field: string, value: unknown, change: EntitlementChange): void {
  if (typeof value !== 'string' || value === '') {
    throw invalid(`${field} must be a non-empty string, got ${show(value)}`, change);
  }
}

function invalid(rule: string, change: EntitlementChange): EntitlementStoreError {
  const event = typeof change.eventId === 'string' && change.eventId !== '' ? ` (event ${change.eventId})` : '';
  return new EntitlementStoreError('ENTITLEMENT_INVALID_CHANGE', `${rule}${event}`);
}

/** A value as it should appear in a message: strings quoted, so an empty one is visible. */
export function show(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}
