import { fileBundleFetcher } from '../bundles/file-bundle-fetcher.js';
import { httpsBundleFetcher } from '../bundles/https-bundle-fetcher.js';
import { JwtBundleCache, type JwtBundleCacheOptions } from '../bundles/jwt-bundle-cache.js';
import { JwtBundleSources } from '../bundles/jwt-bundle-sources.js';
import type { JwtBundleLocation, JwtSvidConfig } from '../config/jwt-svid-config.js';
import { JwtSvidValidator, type JwtSvid, type JwtSvidValidatorOptions } from '../spiffe/jwt-svid.js';
import type { X509BundleSet } from '../spiffe/x509-bundle.js';
import type { JwtBundleFetch } from '../bundles/jwt-bundle-cache.js';
import { bearerTokenOf, type HttpHeaders } from './bearer-token.js';

export interface JwtSvidAuthenticatorOptions {
  config: JwtSvidConfig;
  /** The X.509 bundles the function holds (its SVID's), which authenticate `https_spiffe` bundle endpoints. */
  x509Bundles: () => Promise<X509BundleSet>;
  /** Overrides of every trust domain's bundle cache (refresh, cooldowns, clock, stale-bundle callback). */
  cache?: Partial<JwtBundleCacheOptions>;
  /** Overrides of the validator (leeway, clock). */
  validator?: Partial<Omit<JwtSvidValidatorOptions, 'audience' | 'bundles'>>;
  /** Extra Web PKI roots for `https_web` endpoints (tests); the system's otherwise. */
  webCa?: string;
}

/** The fetch of one configured bundle location. */
function fetcherFor(location: JwtBundleLocation, options: JwtSvidAuthenticatorOptions): JwtBundleFetch {
  if (location.file !== undefined) return fileBundleFetcher(location.trustDomain, location.file, location.format);
  return httpsBundleFetcher(location.trustDomain, {
    url: location.url!,
    format: location.format,
    ...(location.endpointSpiffeId ? { spiffe: { id: location.endpointSpiffeId, x509Bundles: options.x509Bundles } } : {}),
    ...(options.webCa === undefined ? {} : { ca: options.webCa }),
  });
}

/**
 * Authenticates HTTP callers by JWT-SVID and authorises them by SPIFFE ID: the Bearer token of
 * the request is validated per the JWT-SVID spec against the bundle of its trust domain (cached
 * per container), then the caller's SPIFFE ID must be on the allow-list. One per container.
 */
export class JwtSvidAuthenticator {
  readonly validator: JwtSvidValidator;
  readonly sources: JwtBundleSources;
  readonly #config: JwtSvidConfig;

  /** @throws {JwtSvidError} `JWT_SVID_BAD_OPTIONS` for an empty audience. */
  constructor(options: JwtSvidAuthenticatorOptions) {
    this.#config = options.config;
    this.sources = new JwtBundleSources(
      options.config.bundles.map((location) => [location.trustDomain, new JwtBundleCache(fetcherFor(location, options), options.cache)] as const),
    );
    this.validator = new JwtSvidValidator({ ...options.validator, audience: options.config.audience, bundles: this.sources });
  }

  /**
   * The validated JWT-SVID the request carries as its Bearer token. `deadline` (epoch ms) bounds
   * any bundle fetch.
   *
   * @throws {BearerTokenError} no or a malformed `Authorization` header.
   * @throws {JwtSvidError} the token is not a valid JWT-SVID for this audience.
   * @throws {JwtBundleError} the bundle of the token's trust domain could not be obtained.
   */
  async authenticate(request: HttpHeaders, deadline?: number): Promise<JwtSvid> {
    const token = bearerTokenOf(request);
    return this.validator.validate(token, deadline === undefined ? {} : { deadline });
  }

  /**
   * Admits an authenticated caller by the allow-list (`JWT_SVID_ALLOWED_IDS`).
   *
   * @throws {SpiffeIdError} `SPIFFE_ID_NOT_ALLOWED` naming the caller's SPIFFE ID.
   */
  authorize(svid: JwtSvid): void {
    this.#config.authorize(svid.id);
  }
}
