/**
 * The grant-throughput phase's families: many families of 5, so that the records of one SQS batch
 * each name a family of their own and none of their writes overlaps another's (two events for one
 * member's entitlement in one batch would leave the older `superseded`, not applied). The bench
 * server adds them to the reference contact-service's users; the phase names purchasers from them.
 *
 * Family `grant-family-<n>` (n from 1) holds `grant-<n>-1` (the purchaser) … `grant-<n>-5`.
 */
import type { UserInfo } from '../../shared/proto/index.js';

/**
 * Records per SQS batch: the event source mapping's batch size (`queueBatchSize` in
 * `cdk/config.ts`, whose default a test checks this against; the phase's bundle does not import
 * the CDK app).
 */
export const GRANT_BATCH_SIZE = 10;

/** Families the bench server seeds: more than a batch's records (up to 10), so a batch never repeats one. */
export const GRANT_FAMILY_COUNT = 100;

/** Members of each family, purchaser included. */
export const GRANT_FAMILY_SIZE = 5;

/** The id of family `n` (1-based). */
export function grantFamilyIdOf(n: number): string {
  return `grant-family-${n}`;
}

/** The purchaser of family `n` (1-based). */
export function grantPurchaserOf(n: number): string {
  return `grant-${n}-1`;
}

/** Every member id of family `n`, purchaser first. */
export function grantFamilyMemberIds(n: number): string[] {
  return Array.from({ length: GRANT_FAMILY_SIZE }, (_, i) => `grant-${n}-${i + 1}`);
}

/** Every user of every family, shaped like the contact-service contract. */
export function grantFamilyUsers(): UserInfo[] {
  return Array.from({ length: GRANT_FAMILY_COUNT }, (_, f) =>
    grantFamilyMemberIds(f + 1).map((id) => ({ id, name: `Member ${id}`, email: `${id}@example.test`, familyId: grantFamilyIdOf(f + 1) })),
  ).flat();
}
