import type { X509Certificate } from 'node:crypto';
import { parseCertificatesPem, toPem } from './pem.js';
import type { TrustDomain } from './trust-domain.js';

/** The X.509 authorities (root CAs) of one trust domain, as SPIRE distributes them. */
export class X509Bundle {
  constructor(
    readonly trustDomain: TrustDomain,
    readonly authorities: readonly X509Certificate[],
  ) {}

  /**
   * Parses a bundle's PEM (one or more `CERTIFICATE` blocks) for `trustDomain`.
   *
   * @throws {SvidError} `SVID_MALFORMED_PEM` naming the trust domain.
   */
  static parse(trustDomain: TrustDomain, pem: string): X509Bundle {
    return new X509Bundle(trustDomain, parseCertificatesPem(pem, `x509 bundle for trust domain ${trustDomain.name}`));
  }

  /** The authorities as PEM, in order. */
  toPem(): string {
    return toPem(this.authorities);
  }
}

/** Bundles keyed by trust domain: the own one plus federated ones. A later bundle for the same trust domain wins. */
export class X509BundleSet {
  readonly bundles: readonly X509Bundle[];
  readonly #byName: ReadonlyMap<string, X509Bundle>;

  constructor(bundles: Iterable<X509Bundle>) {
    const byName = new Map<string, X509Bundle>();
    for (const bundle of bundles) byName.set(bundle.trustDomain.name, bundle);
    this.#byName = byName;
    this.bundles = [...byName.values()];
  }

  /** The bundle of `td`, or `undefined` when the set does not trust it. */
  get(td: TrustDomain): X509Bundle | undefined {
    return this.#byName.get(td.name);
  }

  /** Every authority of every bundle as PEM, e.g. for a TLS `ca` option. */
  authoritiesPem(): string {
    return this.bundles.map((bundle) => bundle.toPem()).join('');
  }
}
