/**
 * Where an X509-SVID is delivered to a workload, in the exact shapes the real producers use:
 * spiffe-helper's files (local mesh) and SPIRE's `aws_secretsmanager` SVIDStore secret (AWS).
 */
import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { MintedSvid } from './dev-ca.js';

/** spiffe-helper's default file names (`svid_file_name`, `svid_key_file_name`, `svid_bundle_file_name`). */
export const SPIFFE_HELPER_FILES = {
  certChain: 'svid.pem',
  privateKey: 'svid_key.pem',
  bundle: 'svid_bundle.pem',
} as const;

/**
 * Writes `svid` and `bundlePem` into `dir` (created if missing) as spiffe-helper does: `svid.pem`
 * (chain, leaf first), `svid_key.pem` (PKCS#8, mode 0600) and `svid_bundle.pem`.
 */
export async function writeSpiffeHelperFiles(dir: string, svid: MintedSvid, bundlePem: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const keyPath = join(dir, SPIFFE_HELPER_FILES.privateKey);
  // `mode` applies only when a file is created: remove an older key so its mode cannot linger,
  // and chmod after writing because the umask may have narrowed the mode further.
  await rm(keyPath, { force: true });
  await writeFile(keyPath, svid.privateKeyPem, { mode: 0o600 });
  await chmod(keyPath, 0o600);
  await writeFile(join(dir, SPIFFE_HELPER_FILES.certChain), svid.certChainPem, { mode: 0o644 });
  await writeFile(join(dir, SPIFFE_HELPER_FILES.bundle), bundlePem, { mode: 0o644 });
}

/**
 * The secret SPIRE's `aws_secretsmanager` SVIDStore writes, as compact JSON with exactly SPIRE's
 * keys (`spiffeID`, `x509SVID`, `x509SVIDKey`, `bundle`, `federatedBundles`); `federatedBundles`
 * (keyed `spiffe://<td>`) is omitted when empty, as SPIRE's `omitempty` does.
 */
export function spireSecretJson(
  svid: MintedSvid,
  bundlePem: string,
  federatedBundles: Record<string, string> = {},
): string {
  return JSON.stringify({
    spiffeID: svid.spiffeId,
    x509SVID: svid.certChainPem,
    x509SVIDKey: svid.privateKeyPem,
    bundle: bundlePem,
    ...(Object.keys(federatedBundles).length ? { federatedBundles } : {}),
  });
}

/** {@link spireSecretJson} as UTF-8 bytes, the way `GetSecretValue` returns it in `SecretBinary`. */
export function spireSecretBinary(
  svid: MintedSvid,
  bundlePem: string,
  federatedBundles?: Record<string, string>,
): Uint8Array {
  return new TextEncoder().encode(spireSecretJson(svid, bundlePem, federatedBundles));
}
