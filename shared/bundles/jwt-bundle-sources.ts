import type { JwtBundle, JwtBundleSource } from '../spiffe/jwt-bundle.js';
import type { TrustDomain } from '../spiffe/trust-domain.js';
import type { JwtBundleCache } from './jwt-bundle-cache.js';

/**
 * The JWT bundles a function trusts, one {@link JwtBundleCache} per trust domain (its own and the
 * federated ones). A trust domain not listed has no bundle, so its tokens are refused with
 * `JWT_SVID_NO_BUNDLE` without any fetch.
 */
export class JwtBundleSources implements JwtBundleSource {
  readonly #caches: ReadonlyMap<string, JwtBundleCache>;

  constructor(caches: Iterable<readonly [TrustDomain, JwtBundleCache]>) {
    this.#caches = new Map([...caches].map(([td, cache]) => [td.name, cache]));
  }

  /** The trust domains with a bundle source. */
  get trustDomains(): string[] {
    return [...this.#caches.keys()];
  }

  /** The cache of `trustDomain`, if it is trusted. */
  cacheOf(trustDomain: TrustDomain): JwtBundleCache | undefined {
    return this.#caches.get(trustDomain.name);
  }

  /** @throws {JwtBundleError} when the trust domain is trusted but no bundle could be obtained. */
  async jwtBundleFor(trustDomain: TrustDomain, hint: { keyId?: string; deadline?: number } = {}): Promise<JwtBundle | undefined> {
    return this.#caches.get(trustDomain.name)?.get(hint);
  }
}
