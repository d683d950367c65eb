/**
 * The reference contact-service's data: a few users and families, shaped like the contact-service
 * contract (`jia.contact.v1.UserInfo`). Ids not listed here answer `NOT_FOUND`.
 */
import type { UserInfo } from '../../shared/proto/index.js';

function user(id: string, name: string, familyId: string): UserInfo {
  return { id, name, email: `${id}@example.test`, familyId };
}

/** `member-50-01` … `member-50-49`. */
function bigFamilyMembers(): UserInfo[] {
  return Array.from({ length: 49 }, (_, i) => {
    const n = String(i + 1).padStart(2, '0');
    return user(`member-50-${n}`, `Member 50-${n}`, 'family-50');
  });
}

/**
 * Every user, by id:
 * - `user-1` (the usual purchaser) in `family-1`, with `user-2` and `user-3` (3 members);
 * - `user-50` in `family-50`, with `member-50-01` … `member-50-49` (50 members);
 * - `user-solo` in `family-solo`, alone.
 */
export const USERS: ReadonlyMap<string, UserInfo> = new Map(
  [
    user('user-1', 'Ada Lovelace', 'family-1'),
    user('user-2', 'Charles Babbage', 'family-1'),
    user('user-3', 'Mary Somerville', 'family-1'),
    user('user-50', 'Grace Hopper', 'family-50'),
    ...bigFamilyMembers(),
    user('user-solo', 'Alan Turing', 'family-solo'),
  ].map((u) => [u.id, u]),
);

/** The families of `users`: each family's members, in the users' order (purchaser first). */
export function familiesOf(users: ReadonlyMap<string, UserInfo>): ReadonlyMap<string, readonly UserInfo[]> {
  const families = new Map<string, UserInfo[]>();
  for (const u of users.values()) {
    const members = families.get(u.familyId) ?? [];
    members.push(u);
    families.set(u.familyId, members);
  }
  return families;
}

/** Every family's members, purchaser first, in a stable order. */
export const FAMILIES: ReadonlyMap<string, readonly UserInfo[]> = familiesOf(USERS);
