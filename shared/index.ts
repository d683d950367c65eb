// The mesh layer's public surface: re-exports only.
export * from './errors.js';
export { parseSpiffeId, spiffeIdFromSegments, SpiffeId } from './spiffe/spiffe-id.js';
export { parseTrustDomain, TrustDomain } from './spiffe/trust-domain.js';
export { matchAny, matchId, matchMemberOf, matchOneOf, type Matcher } from './spiffe/match.js';
export { IdentitySource, IDENTITY_SOURCE_DEFAULTS, type IdentitySourceOptions } from './identity/identity-source.js';
export { svidFetcherFor, type SvidFetcher, type SvidLocation } from './identity/svid-fetcher.js';
export { svidFromSpireSecret, type SecretValue } from './identity/spire-secret.js';
export { svidFromSpiffeHelperFiles, SPIFFE_HELPER_FILES } from './identity/spiffe-helper-files.js';
export { svidMaterialFromParts, secondsToExpiry, type SvidMaterial, type SvidParts } from './identity/svid-material.js';
export { identityMiddleware, type IdentityContext, type IdentityMiddlewareOptions } from './middleware/identity-middleware.js';
export { parseCertificatesPem, toPem } from './spiffe/pem.js';
export { X509Bundle, X509BundleSet } from './spiffe/x509-bundle.js';
export { checkLeaf, checkSigningCert, leafSpiffeId, parseX509Svid, type X509Svid } from './spiffe/x509-svid.js';
export { verifyX509Svid, type VerifiedX509Svid, type VerifyX509SvidOptions } from './spiffe/x509-svid-verify.js';
export { JwtBundle, JwtBundleSet, JWT_BUNDLE_FORMATS, type JwtBundleFormat, type JwtBundleSource } from './spiffe/jwt-bundle.js';
export { JwtSvidValidator, JWT_SVID_ALGORITHMS, JWT_SVID_VALIDATOR_DEFAULTS, type JwtSvid, type JwtSvidValidatorOptions } from './spiffe/jwt-svid.js';
export { JwtBundleError, JwtSvidError, type JwtBundleErrorCode, type JwtSvidErrorCode } from './spiffe/jwt-svid-error.js';
export { JwtBundleCache, JWT_BUNDLE_CACHE_DEFAULTS, type JwtBundleCacheOptions, type JwtBundleFetch } from './bundles/jwt-bundle-cache.js';
export { JwtBundleSources } from './bundles/jwt-bundle-sources.js';
export { fileBundleFetcher } from './bundles/file-bundle-fetcher.js';
export { httpsBundleFetcher, type HttpsBundleEndpoint } from './bundles/https-bundle-fetcher.js';
export { bearerTokenOf, BearerTokenError, type BearerTokenErrorCode, type HttpHeaders } from './authentication/bearer-token.js';
export { callerAllowList } from './authentication/caller-allow-list.js';
export { JwtSvidAuthenticator, type JwtSvidAuthenticatorOptions } from './authentication/jwt-svid-authenticator.js';
export { loadJwtSvidConfig, type JwtBundleLocation, type JwtSvidConfig } from './config/jwt-svid-config.js';
export {
  DISCOVERY_SCHEMES,
  MESH_DEFAULTS,
  discoveryOrder,
  loadMeshConfig,
  type CircuitBreakerConfig,
  type DiscoveryScheme,
  type MeshConfig,
  type ServiceConfig,
} from './config/index.js';
export * from './resilience/index.js';
export * from './observability/index.js';
export * from './discovery/index.js';
export * from './transport/index.js';
export { MeshRuntime, type Invocation, type MeshRuntimeOptions, type MeshService } from './middleware/mesh-runtime.js';
export { meshMiddleware, type MeshContext, type MeshMiddlewareOptions } from './middleware/mesh-middleware.js';
export * from './entitlements/index.js';
export * from './secrets/index.js';
