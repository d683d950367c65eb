/**
 * The local mesh's JWT authority, kept on disk beside the dev PKI so `npm run mint-jwt-svid` and
 * `npm run invoke -- get-user-info --as …` (separate processes) sign with the key get-user-info
 * trusts: `<dir>/jwt-authority.json` (the dev private key, mode 0600) and `<dir>/jwt-bundle.json`
 * (the SPIFFE bundle `JWT_SVID_BUNDLE_FILE` points at). Dev only: a real trust domain's JWT keys
 * never leave SPIRE.
 */
import { join } from 'node:path';
import { DEV_JWT_FILES, DevJwtAuthority } from './dev-jwt-authority.js';
import { FUNCTIONS_SPIFFE_ID } from './local-identities.js';

/** The audience local callers mint for: the functions' own SPIFFE ID (the convention README describes). */
export const LOCAL_JWT_AUDIENCE = FUNCTIONS_SPIFFE_ID;

/** The callers the mesh's servers allow (issue #17), allowed locally unless JWT_SVID_ALLOWED_IDS says otherwise. */
export const LOCAL_ALLOWED_CALLERS = ['spiffe://jia.app/contact-service', 'spiffe://jia.app/family-service', 'spiffe://jia.app/document-service'];

export interface LocalJwtAuthority {
  authority: DevJwtAuthority;
  /** The SPIFFE bundle file of the authority. */
  bundlePath: string;
  /** Whether the key was created now (false: reused from disk). */
  created: boolean;
}

/** Returns the JWT authority kept in `dir`, creating and saving one when there is none or it does not load. */
export async function ensureLocalJwtAuthority(dir: string): Promise<LocalJwtAuthority> {
  try {
    const authority = await DevJwtAuthority.load(dir);
    return { authority, bundlePath: join(dir, DEV_JWT_FILES.bundle), created: false };
  } catch {
    const authority = await DevJwtAuthority.create('jia.app');
    const bundlePath = await authority.save(dir);
    return { authority, bundlePath, created: true };
  }
}
