import type { ApplyOutcome, EntitlementChange } from '../../shared/entitlements/entitlement-change.js';
import type { FeatureSummary } from '../../shared/entitlements/stripe-links.js';
import type { Contact } from '../../shared/transport/contact-client.js';
import type { EntitlementCommand } from '../payment-webhook/entitlement-command.js';
import { linkPurchaser, resolvePurchaser, type PurchaserLinks } from './purchaser-resolution.js';

/** What granting needs from the mesh: the contact-service's two lookups. */
export interface FamilyDirectory {
  getUserInfo(userId: string): Promise<Contact>;
  getFamilyMembers(familyId: string): Promise<Contact[]>;
}

/** What granting needs from storage: one conditional, event-ordered write per member. */
export interface EntitlementWriter {
  applyToMembers(memberIds: readonly string[], change: EntitlementChange): Promise<Map<string, ApplyOutcome>>;
}

/** What a Stripe Entitlements summary needs from storage (`StripeLinkStore` is one). */
export interface StripeLinks extends PurchaserLinks {
  recordFeatureSummary(
    customerId: string,
    summary: FeatureSummary,
    options?: { complete?: boolean },
  ): Promise<{ known: string[]; newest: FeatureSummary | undefined }>;
}

export interface GrantDeps {
  directory: FamilyDirectory;
  store: EntitlementWriter;
  /** The Stripe links; without them only events that name their user can be applied. */
  links?: StripeLinks;
}

/** The effect of one change on the family's members. */
export interface ChangeOutcome {
  action: 'grant' | 'revoke';
  entitlement: string;
  /** Members for whom the change took effect now. */
  applied: string[];
  /** Members for whom it had already taken effect (a redelivery). */
  duplicate: string[];
  /** Members whose entitlement a newer event already decided. */
  superseded: string[];
}

/** The effect of one payment event on a family. */
export interface GrantResult {
  eventId: string;
  action: EntitlementCommand['action'];
  /** The entitlement (`grant`, `revoke`), the summary's features joined by `,` (`sync`), or empty (`link`). */
  entitlement: string;
  purchaserId: string;
  /** `event` when the event named the purchaser, else the Stripe id it was resolved through. */
  purchaserVia: string;
  familyId: string;
  members: number;
  /** Every change's members, together: */
  applied: string[];
  duplicate: string[];
  superseded: string[];
  /** Each change on its own (one for grant and revoke, one per known feature for sync, none for link). */
  changes: ChangeOutcome[];
}

/**
 * Applies one payment event to every member of the purchaser's family: resolves the purchaser
 * (the user the event names, or the one its Stripe objects are linked to), looks the purchaser
 * up, lists the family, and writes each member's entitlement conditionally, so the effect
 * happens once per (event, member) and never overrides a newer event.
 *
 * - `grant` / `revoke` write `entitlement`;
 * - `sync` records the summary, then makes every feature the customer's summaries ever listed
 *   what the newest summary says (granted when listed, revoked when not), written with that
 *   summary's event order, so the newest summary wins whatever order they arrive in; a partial
 *   summary (`entitlementsComplete: false`) only grants what it lists;
 * - `link` only records the links.
 *
 * A purchaser without a family is the only member. Safe to run again for the same event: members
 * already written come back as `duplicate`.
 *
 * @throws {PurchaserUnresolvedError} `GRANT_PURCHASER_UNRESOLVED` when the purchaser is not known yet.
 * @throws {MeshCallError} when the contact-service lookups fail (`MESH_NOT_FOUND` for an unknown purchaser).
 * @throws {EntitlementStoreError} when a member's write or a link failed (the others were written).
 */
export async function grantEntitlements(command: EntitlementCommand, deps: GrantDeps): Promise<GrantResult> {
  const resolved = await resolvePurchaser(command, deps.links);
  // The links are written while the contact-service is asked: they do not depend on its answer.
  const linking = linkPurchaser(command, deps.links);
  const result: GrantResult = {
    eventId: command.eventId,
    action: command.action,
    entitlement: command.entitlement ?? command.entitlements?.join(',') ?? '',
    purchaserId: resolved.userId,
    purchaserVia: resolved.via,
    familyId: '',
    members: 0,
    applied: [],
    duplicate: [],
    superseded: [],
    changes: [],
  };
  if (command.action === 'link') {
    await linking;
    return result;
  }

  const [purchaser] = await Promise.all([deps.directory.getUserInfo(resolved.userId), linking]);
  const members = purchaser.familyId ? await deps.directory.getFamilyMembers(purchaser.familyId) : [purchaser];
  const memberIds = members.some((m) => m.id === purchaser.id) ? members.map((m) => m.id) : [purchaser.id, ...members.map((m) => m.id)];
  result.familyId = purchaser.familyId;
  result.members = memberIds.length;

  const base = { eventType: command.eventType, purchaserId: resolved.userId, familyId: purchaser.familyId };
  const changes: EntitlementChange[] =
    command.action === 'sync'
      ? await featureChanges(command, deps.links, base)
      : [{ ...base, action: command.action, entitlement: command.entitlement!, eventId: command.eventId, eventCreated: command.eventCreated, expiresAt: command.expiresAt }];

  for (const change of changes) {
    const outcomes = await deps.store.applyToMembers(memberIds, change);
    const outcome: ChangeOutcome = { action: change.action, entitlement: change.entitlement, applied: [], duplicate: [], superseded: [] };
    for (const [memberId, kind] of outcomes) {
      outcome[kind].push(memberId);
      result[kind].push(memberId);
    }
    result.changes.push(outcome);
  }
  return result;
}

/** The changes a summary leads to: the newest recorded summary applied to every feature ever listed. */
async function featureChanges(
  command: EntitlementCommand,
  links: StripeLinks | undefined,
  base: Pick<EntitlementChange, 'eventType' | 'purchaserId' | 'familyId'>,
): Promise<EntitlementChange[]> {
  const customerId = command.stripeRefs?.find((ref) => ref.startsWith('cus_'));
  // resolvePurchaser already failed an event without links or refs; a summary always names its customer.
  if (links === undefined || customerId === undefined) return [];
  const summary = { eventId: command.eventId, eventCreated: command.eventCreated, features: command.entitlements ?? [] };
  if (command.entitlementsComplete === false) {
    // Part of a summary: grant what it lists, in its own order; it cannot revoke anything.
    await links.recordFeatureSummary(customerId, summary, { complete: false });
    return summary.features.map((entitlement) => ({ ...base, action: 'grant' as const, entitlement, eventId: summary.eventId, eventCreated: summary.eventCreated }));
  }
  const { known, newest } = await links.recordFeatureSummary(customerId, summary);
  if (newest === undefined) return [];
  const listed = new Set(newest.features);
  return known.map((entitlement) => ({
    ...base,
    action: listed.has(entitlement) ? ('grant' as const) : ('revoke' as const),
    entitlement,
    eventId: newest.eventId,
    eventCreated: newest.eventCreated,
  }));
}
