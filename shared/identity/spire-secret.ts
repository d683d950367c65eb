// A namespace import lets esbuild keep only the zod in use; `import { z }` bundles every locale (~370 KB).
import * as z from 'zod';
import { IdentityError } from '../errors.js';
import { svidMaterialFromParts, type SvidMaterial } from './svid-material.js';

/**
 * The JSON SPIRE's `aws_secretsmanager` SVIDStore plugin writes (read from its source; its docs
 * spell the keys differently and are wrong). `federatedBundles` is omitted when empty.
 */
const spireSecretSchema = z.object({
  spiffeID: z.string().min(1),
  x509SVID: z.string().min(1),
  x509SVIDKey: z.string().min(1),
  bundle: z.string().min(1),
  federatedBundles: z.record(z.string(), z.string()).optional(),
});

/** A `GetSecretValue` answer: SPIRE writes `SecretBinary`; `SecretString` is accepted too. */
export interface SecretValue {
  SecretBinary?: Uint8Array | undefined;
  SecretString?: string | undefined;
}

/**
 * Reads an X.509-SVID from a secret in SPIRE's Secrets Manager format and validates it.
 *
 * @param secretId names the secret in error messages (never its contents).
 * @throws {IdentityError} `IDENTITY_SECRET_EMPTY`, `IDENTITY_SECRET_MALFORMED` (not JSON, or a key
 *   missing), `IDENTITY_SPIFFE_ID_MISMATCH` (`spiffeID` differs from the leaf's URI SAN), or the
 *   codes of {@link svidMaterialFromParts}.
 */
export function svidFromSpireSecret(secret: SecretValue, secretId: string, at: Date = new Date()): SvidMaterial {
  const text =
    secret.SecretBinary && secret.SecretBinary.length > 0
      ? new TextDecoder('utf-8', { fatal: false }).decode(secret.SecretBinary)
      : secret.SecretString;
  if (!text) {
    throw new IdentityError('IDENTITY_SECRET_EMPTY', `secret ${secretId} has neither SecretBinary nor SecretString`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // The text may hold a private key: say what is wrong, never echo it.
    throw new IdentityError('IDENTITY_SECRET_MALFORMED', `secret ${secretId} is not JSON in SPIRE's svidstore format`);
  }
  // Parsed once per refresh: zod's JIT fast path would cost more to compile than it saves.
  const parsed = spireSecretSchema.safeParse(json, { jitless: true });
  if (!parsed.success) {
    const keys = parsed.error.issues.map((issue) => issue.path.join('.') || '(root)').join(', ');
    throw new IdentityError(
      'IDENTITY_SECRET_MALFORMED',
      `secret ${secretId} is not in SPIRE's svidstore format: missing or invalid ${keys}`,
    );
  }
  const { spiffeID, x509SVID, x509SVIDKey, bundle, federatedBundles } = parsed.data;
  const material = svidMaterialFromParts(
    { certChainPem: x509SVID, privateKeyPem: x509SVIDKey, bundlePem: bundle, federatedBundles },
    `secret ${secretId}`,
    at,
  );
  if (material.svid.id.toString() !== spiffeID) {
    throw new IdentityError(
      'IDENTITY_SPIFFE_ID_MISMATCH',
      `secret ${secretId} names spiffeID ${JSON.stringify(spiffeID)} but its certificate is ${material.svid.id.toString()}`,
    );
  }
  return material;
}
