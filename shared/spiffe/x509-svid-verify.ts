import type { X509Certificate } from 'node:crypto';
import { SvidError } from '../errors.js';
import type { SpiffeId } from './spiffe-id.js';
import type { X509BundleSet } from './x509-bundle.js';
import { checkLeaf, checkSigningCert, describeCert } from './x509-svid.js';

export interface VerifyX509SvidOptions {
  /** The time at which every certificate of the path must be valid; default now. */
  at?: Date;
}

export interface VerifiedX509Svid {
  id: SpiffeId;
  /** Leaf, the intermediates used, then the bundle authority that anchors the path. */
  verifiedChain: X509Certificate[];
}

/** `b` issued and signed `a`: names and key identifiers match (OpenSSL), and the signature verifies. */
function signedBy(a: X509Certificate, b: X509Certificate): boolean {
  return a.checkIssued(b) && a.verify(b.publicKey);
}

/** Searches signature paths from a leaf up to one of a bundle's authorities. */
class PathSearch {
  #authorityFingerprints: Set<string> | undefined;

  constructor(
    private readonly intermediates: readonly X509Certificate[],
    private readonly authorities: readonly X509Certificate[],
  ) {}

  /** Every path from `cert` up to an authority, depth first, each intermediate used at most once. */
  *from(cert: X509Certificate, used = new Set<X509Certificate>()): Generator<X509Certificate[]> {
    for (const authority of this.authorities) {
      if (signedBy(cert, authority)) yield [cert, authority];
    }
    for (const intermediate of this.intermediates) {
      if (used.has(intermediate) || !signedBy(cert, intermediate)) continue;
      // A peer may send the root too; the loop above already anchored the path at the bundle's copy.
      if (this.#isAuthority(intermediate)) continue;
      used.add(intermediate);
      for (const rest of this.from(intermediate, used)) yield [cert, ...rest];
      used.delete(intermediate);
    }
  }

  #isAuthority(cert: X509Certificate): boolean {
    this.#authorityFingerprints ??= new Set(this.authorities.map((authority) => authority.fingerprint256));
    return this.#authorityFingerprints.has(cert.fingerprint256);
  }
}

/** The validity error of the first certificate in `path` that is not valid at `at`, if any. */
function validityError(path: readonly X509Certificate[], at: Date, id: SpiffeId): SvidError | undefined {
  const time = at.getTime();
  for (const [index, cert] of path.entries()) {
    const role = index === 0 ? 'leaf' : index === path.length - 1 ? 'authority' : 'intermediate';
    const what = `${describeCert(role, cert)} in the chain of ${id.toString()}`;
    if (time > cert.validToDate.getTime()) {
      return new SvidError(
        'SVID_EXPIRED',
        `${what} has expired: not after ${cert.validToDate.toISOString()}, checked at ${at.toISOString()}`,
      );
    }
    if (time < cert.validFromDate.getTime()) {
      return new SvidError(
        'SVID_NOT_YET_VALID',
        `${what} is not yet valid: not before ${cert.validFromDate.toISOString()}, checked at ${at.toISOString()}`,
      );
    }
  }
  return undefined;
}

/**
 * Verifies a peer's X.509-SVID chain (leaf first, as presented in TLS) per the X509-SVID spec: the
 * leaf and signing-certificate rules, then a signature path from the leaf through the presented
 * intermediates to an authority in the bundle of the leaf's own trust domain (own or federated),
 * every certificate of which is valid at `options.at`. Synchronous and without webcrypto: it runs
 * per TLS handshake.
 *
 * @throws {SvidError} `SVID_EMPTY_CHAIN`, any code of `checkLeaf` or `checkSigningCert`,
 *   `SVID_NO_BUNDLE_FOR_TRUST_DOMAIN`, `SVID_UNTRUSTED`, `SVID_EXPIRED` or `SVID_NOT_YET_VALID`.
 */
export function verifyX509Svid(
  chain: readonly X509Certificate[],
  bundles: X509BundleSet,
  options: VerifyX509SvidOptions = {},
): VerifiedX509Svid {
  const [leaf, ...intermediates] = chain;
  if (!leaf) throw new SvidError('SVID_EMPTY_CHAIN', 'x509-svid chain must hold at least the leaf certificate, it is empty');
  const id = checkLeaf(leaf);
  for (const intermediate of intermediates) checkSigningCert(intermediate);

  const bundle = bundles.get(id.trustDomain);
  if (!bundle) {
    throw new SvidError(
      'SVID_NO_BUNDLE_FOR_TRUST_DOMAIN',
      `no x509 bundle for trust domain ${id.trustDomain.name} of ${id.toString()}`,
    );
  }

  const at = options.at ?? new Date();
  // The first path valid at `at` wins; several can exist while a bundle holds an old and a new root.
  let firstInvalid: SvidError | undefined;
  for (const path of new PathSearch(intermediates, bundle.authorities).from(leaf)) {
    const error = validityError(path, at, id);
    if (!error) return { id, verifiedChain: path };
    firstInvalid ??= error;
  }
  if (firstInvalid) throw firstInvalid;
  throw new SvidError(
    'SVID_UNTRUSTED',
    `${describeCert('leaf', leaf)} of ${id.toString()} does not chain to an authority of the x509 bundle for trust domain ${id.trustDomain.name}`,
  );
}
