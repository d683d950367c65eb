import type { ApplyOutcome, EntitlementChange } from '../../shared/entitlements/entitlement-change.js';
import type { Contact } from '../../shared/transport/contact-client.js';
import type { EntitlementCommand } from '../payment-webhook/entitlement-command.js';

/** What granting needs from the mesh: the contact-service's two lookups. */
export interface FamilyDirectory {
  getUserInfo(userId: string): Promise<Contact>;
  getFamilyMembers(familyId: string): Promise<Contact[]>;
}

/** What granting needs from storage: one conditional, event-ordered write per member. */
export interface EntitlementWriter {
  applyToMembers(memberIds: readonly string[], change: EntitlementChange): Promise<Map<string, ApplyOutcome>>;
}

/** The effect of one payment event on a family. */
export interface GrantResult {
  eventId: string;
  action: EntitlementCommand['action'];
  entitlement: string;
  purchaserId: string;
  familyId: string;
  members: number;
  /** Members for whom this event took effect now. */
  applied: string[];
  /** Members for whom this event had already taken effect (a redelivery). */
  duplicate: string[];
  /** Members whose entitlement a newer event already decided. */
  superseded: string[];
}

/**
 * Applies one payment event to every member of the purchaser's family: looks the purchaser up,
 * lists the family, and writes each member's entitlement conditionally, so the effect happens once
 * per (event, member) and never overrides a newer event.
 *
 * A purchaser without a family is the only member. Safe to run again for the same event: members
 * already written come back as `duplicate`.
 *
 * @throws {MeshCallError} when the contact-service lookups fail (`MESH_NOT_FOUND` for an unknown purchaser).
 * @throws {EntitlementStoreError} when a member's write failed (the others were written).
 */
export async function grantEntitlements(
  command: EntitlementCommand,
  deps: { directory: FamilyDirectory; store: EntitlementWriter },
): Promise<GrantResult> {
  const purchaser = await deps.directory.getUserInfo(command.purchaserId);
  const members = purchaser.familyId ? await deps.directory.getFamilyMembers(purchaser.familyId) : [purchaser];
  const memberIds = members.some((m) => m.id === purchaser.id) ? members.map((m) => m.id) : [purchaser.id, ...members.map((m) => m.id)];
  const outcomes = await deps.store.applyToMembers(memberIds, {
    action: command.action,
    entitlement: command.entitlement,
    eventId: command.eventId,
    eventCreated: command.eventCreated,
    eventType: command.eventType,
    purchaserId: command.purchaserId,
    familyId: purchaser.familyId,
  });
  const result: GrantResult = {
    eventId: command.eventId,
    action: command.action,
    entitlement: command.entitlement,
    purchaserId: command.purchaserId,
    familyId: purchaser.familyId,
    members: memberIds.length,
    applied: [],
    duplicate: [],
    superseded: [],
  };
  for (const [memberId, outcome] of outcomes) result[outcome].push(memberId);
  return result;
}
