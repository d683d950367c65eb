import { IdentityError } from '../errors.js';
import type { SecretsManagerValueOptions } from '../secrets/secrets-manager-value.js';
import { secretsManagerSvidFetcher } from './secrets-manager-fetcher.js';
import { svidFromSpiffeHelperFiles } from './spiffe-helper-files.js';
import type { SvidMaterial } from './svid-material.js';

/** Loads the current SVID material from wherever it lives; every call reads the source afresh. */
export type SvidFetcher = () => Promise<SvidMaterial>;

/** Where the SVID comes from: a SPIRE-written secret in AWS, spiffe-helper files locally. */
export interface SvidLocation {
  /** `SVID_SECRET_ID`: name or ARN of the secret SPIRE's `aws_secretsmanager` plugin writes. */
  secretId?: string | undefined;
  /** `SVID_DIR`: a directory with spiffe-helper's `svid.pem`, `svid_key.pem`, `svid_bundle.pem`. */
  dir?: string | undefined;
}

/**
 * Picks the fetcher for a location: the secret when `secretId` is set (read as `secrets.access`
 * says: SDK or extension), else the files in `dir`.
 *
 * @throws {IdentityError} `IDENTITY_SOURCE_NOT_CONFIGURED` when neither is set.
 */
export function svidFetcherFor(location: SvidLocation, secrets: SecretsManagerValueOptions = {}): { fetch: SvidFetcher; description: string } {
  if (location.secretId) {
    const via = secrets.access?.mode === 'extension' ? ' through the secrets extension' : '';
    return { fetch: secretsManagerSvidFetcher(location.secretId, secrets), description: `secret ${location.secretId}${via}` };
  }
  if (location.dir) {
    const dir = location.dir;
    return { fetch: () => svidFromSpiffeHelperFiles(dir), description: `files in ${dir}` };
  }
  throw new IdentityError(
    'IDENTITY_SOURCE_NOT_CONFIGURED',
    'no svid source: set SVID_SECRET_ID (secrets manager, as SPIRE writes it) or SVID_DIR (spiffe-helper files)',
  );
}
