import { IdentityError, SvidError } from '../errors.js';
import type { SpiffeId } from '../spiffe/spiffe-id.js';
import { parseTrustDomain } from '../spiffe/trust-domain.js';
import { X509Bundle, X509BundleSet } from '../spiffe/x509-bundle.js';
import { parseX509Svid, type X509Svid } from '../spiffe/x509-svid.js';
import { verifyX509Svid } from '../spiffe/x509-svid-verify.js';

/**
 * Everything a workload needs to take part in mTLS: its own X.509-SVID (chain and key) and the
 * trust bundles it verifies peers against (its own trust domain's and any federated ones).
 */
export interface SvidMaterial {
  readonly svid: X509Svid;
  /** Own bundle plus federated bundles, keyed by trust domain. */
  readonly bundles: X509BundleSet;
  /** The bundle of the SVID's own trust domain. */
  readonly ownBundle: X509Bundle;
}

/** The PEM parts an SVID source yields, before validation. */
export interface SvidParts {
  certChainPem: string;
  privateKeyPem: string;
  bundlePem: string;
  /** Federated bundles keyed by trust domain, bare (`other.app`) or as an ID (`spiffe://other.app`). */
  federatedBundles?: Record<string, string>;
}

/**
 * Validates SVID parts into usable material: the SVID obeys the X509-SVID rules, its key matches
 * the leaf, and its chain verifies against its own trust domain's bundle at `at`.
 *
 * @throws {IdentityError} `IDENTITY_INVALID_SVID` (cause: the {@link SvidError}) or `IDENTITY_EXPIRED`.
 */
export function svidMaterialFromParts(parts: SvidParts, source: string, at: Date = new Date()): SvidMaterial {
  try {
    const svid = parseX509Svid(parts.certChainPem, parts.privateKeyPem);
    const ownBundle = X509Bundle.parse(svid.id.trustDomain, parts.bundlePem);
    const federated = Object.entries(parts.federatedBundles ?? {}).map(([td, pem]) =>
      X509Bundle.parse(parseTrustDomain(td), pem),
    );
    const bundles = new X509BundleSet([ownBundle, ...federated.filter((b) => !b.trustDomain.equals(ownBundle.trustDomain))]);
    verifyX509Svid(svid.certificates, bundles, { at });
    return { svid, bundles, ownBundle };
  } catch (error) {
    if (error instanceof SvidError && error.code === 'SVID_EXPIRED') {
      throw new IdentityError('IDENTITY_EXPIRED', `svid from ${source} has expired: ${error.message}`, { cause: error });
    }
    if (error instanceof IdentityError) throw error;
    throw new IdentityError(
      'IDENTITY_INVALID_SVID',
      `svid from ${source} is not a valid X509-SVID: ${(error as Error).message}`,
      { cause: error },
    );
  }
}

/** Seconds until the SVID's leaf expires (negative once expired), as `svid_expiry_seconds` reports. */
export function secondsToExpiry(material: SvidMaterial, now: number = Date.now()): number {
  return Math.floor((material.svid.notAfter.getTime() - now) / 1000);
}

/** True when two materials hold the same leaf certificate (SPIRE re-wrote the secret unchanged). */
export function sameSvid(a: SvidMaterial, b: SvidMaterial): boolean {
  return a.svid.serialNumber === b.svid.serialNumber && a.svid.id.equals(b.svid.id) && a.svid.certChainPem === b.svid.certChainPem
    && a.bundles.authoritiesPem() === b.bundles.authoritiesPem();
}

export type { SpiffeId };
