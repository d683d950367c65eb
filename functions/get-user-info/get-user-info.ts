import type { Entitlement } from '../../shared/entitlements/entitlement-change.js';
import type { Contact } from '../../shared/transport/contact-client.js';

/** A user as get-user-info answers: the contact-service's view plus the user's entitlements. */
export interface UserView {
  id: string;
  name: string;
  email: string;
  familyId: string;
  /**
   * `expiresAt` only on a lapsing grant (a past-due grace): once it has passed, the entitlement
   * reads as `revoked`, since no event arrives when a grace ends.
   */
  entitlements: { name: string; status: Entitlement['status']; grantedAt: string | null; expiresAt?: string }[];
}

/**
 * Looks a user up in the contact-service and in the entitlements table, concurrently.
 *
 * @throws {MeshCallError} `MESH_NOT_FOUND` for an unknown user; other codes when the mesh fails.
 * @throws {EntitlementStoreError} when the table cannot be read.
 */
export async function getUserInfo(
  userId: string,
  deps: {
    directory: { getUserInfo(userId: string): Promise<Contact> };
    store: { list(userId: string): Promise<Entitlement[]> };
    now?: () => Date;
  },
): Promise<UserView> {
  const [user, entitlements] = await Promise.all([deps.directory.getUserInfo(userId), deps.store.list(userId)]);
  const now = (deps.now ?? (() => new Date()))().toISOString();
  return {
    ...user,
    entitlements: entitlements.map((e) => {
      if (e.expiresAt === undefined) return { name: e.name, status: e.status, grantedAt: e.grantedAt ?? null };
      const lapsed = e.status === 'granted' && e.expiresAt <= now;
      return lapsed
        ? { name: e.name, status: 'revoked' as const, grantedAt: null, expiresAt: e.expiresAt }
        : { name: e.name, status: e.status, grantedAt: e.grantedAt ?? null, expiresAt: e.expiresAt };
    }),
  };
}
