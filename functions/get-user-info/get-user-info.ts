import type { Entitlement } from '../../shared/entitlements/entitlement-change.js';
import type { Contact } from '../../shared/transport/contact-client.js';

/** A user as get-user-info answers: the contact-service's view plus the user's entitlements. */
export interface UserView {
  id: string;
  name: string;
  email: string;
  familyId: string;
  entitlements: { name: string; status: Entitlement['status']; grantedAt: string | null }[];
}

/**
 * Looks a user up in the contact-service and in the entitlements table, concurrently.
 *
 * @throws {MeshCallError} `MESH_NOT_FOUND` for an unknown user; other codes when the mesh fails.
 * @throws {EntitlementStoreError} when the table cannot be read.
 */
export async function getUserInfo(
  userId: string,
  deps: { directory: { getUserInfo(userId: string): Promise<Contact> }; store: { list(userId: string): Promise<Entitlement[]> } },
): Promise<UserView> {
  const [user, entitlements] = await Promise.all([deps.directory.getUserInfo(userId), deps.store.list(userId)]);
  return {
    ...user,
    entitlements: entitlements.map((e) => ({ name: e.name, status: e.status, grantedAt: e.grantedAt ?? null })),
  };
}
