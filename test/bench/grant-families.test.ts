import { describe, expect, it } from 'vitest';
import { APP_CONFIG_DEFAULTS } from '../../cdk/config.js';
import { GRANT_BATCH_SIZE, GRANT_FAMILY_COUNT, GRANT_FAMILY_SIZE, grantFamilyIdOf, grantFamilyMemberIds, grantFamilyUsers, grantPurchaserOf } from './grant-families.js';

describe('the grant-throughput families', () => {
  it('feed batches of the event source mapping\'s default size', () => {
    expect(GRANT_BATCH_SIZE).toBe(APP_CONFIG_DEFAULTS.queueBatchSize);
  });

  it('are more than a batch holds, so no family appears twice in one batch', () => {
    expect(GRANT_FAMILY_COUNT).toBeGreaterThan(GRANT_BATCH_SIZE);
  });

  it('hold 5 members each, the purchaser first, all in the purchaser\'s family', () => {
    const users = new Map(grantFamilyUsers().map((u) => [u.id, u]));

    expect(users.size).toBe(GRANT_FAMILY_COUNT * GRANT_FAMILY_SIZE);
    const members = grantFamilyMemberIds(7);
    expect(members).toHaveLength(5);
    expect(members[0]).toBe(grantPurchaserOf(7));
    expect(new Set(members.map((id) => users.get(id)?.familyId))).toEqual(new Set([grantFamilyIdOf(7)]));
  });
});
