/**
 * Every error the mesh layer throws: one base class with a stable `code`, subclasses per concept.
 *
 * Callers branch on `code` (or the `is…` guards), never on message text. Messages are lowercase,
 * state the broken rule and name the offending value, which is never a secret, key or signature.
 */
export class MeshError<Code extends string = string> extends Error {
  readonly code: Code;

  constructor(code: Code, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** A SPIFFE ID or trust domain that breaks the SPIFFE-ID spec. */
export type SpiffeIdErrorCode =
  | 'SPIFFE_ID_EMPTY'
  | 'SPIFFE_ID_WRONG_SCHEME'
  | 'SPIFFE_ID_MISSING_TRUST_DOMAIN'
  | 'SPIFFE_ID_BAD_TRUST_DOMAIN_CHAR'
  | 'SPIFFE_ID_NO_LEADING_SLASH'
  | 'SPIFFE_ID_EMPTY_SEGMENT'
  | 'SPIFFE_ID_DOT_SEGMENT'
  | 'SPIFFE_ID_BAD_PATH_SEGMENT_CHAR'
  | 'SPIFFE_ID_TRAILING_SLASH'
  | 'SPIFFE_ID_NOT_ALLOWED';
export class SpiffeIdError extends MeshError<SpiffeIdErrorCode> {}

/** An X.509-SVID (or its bundle) that breaks the X509-SVID spec or does not verify. */
export type SvidErrorCode =
  | 'SVID_MALFORMED_PEM'
  | 'SVID_MALFORMED_CERTIFICATE'
  | 'SVID_EMPTY_CHAIN'
  | 'SVID_NO_URI_SAN'
  | 'SVID_MULTIPLE_URI_SANS'
  | 'SVID_INVALID_SPIFFE_ID'
  | 'SVID_ROOT_PATH'
  | 'SVID_LEAF_IS_CA'
  | 'SVID_LEAF_MISSING_DIGITAL_SIGNATURE'
  | 'SVID_LEAF_HAS_KEY_CERT_SIGN'
  | 'SVID_LEAF_HAS_CRL_SIGN'
  | 'SVID_SIGNING_CERT_NOT_CA'
  | 'SVID_SIGNING_CERT_MISSING_KEY_CERT_SIGN'
  | 'SVID_NO_BUNDLE_FOR_TRUST_DOMAIN'
  | 'SVID_UNTRUSTED'
  | 'SVID_EXPIRED'
  | 'SVID_NOT_YET_VALID'
  | 'SVID_KEY_MISMATCH'
  | 'SVID_BAD_PRIVATE_KEY';
export class SvidError extends MeshError<SvidErrorCode> {}

/** The function's own identity could not be loaded from its source. */
export type IdentityErrorCode =
  | 'IDENTITY_SOURCE_NOT_CONFIGURED'
  | 'IDENTITY_SECRET_NOT_FOUND'
  | 'IDENTITY_SECRET_FETCH_FAILED'
  | 'IDENTITY_SECRET_EMPTY'
  | 'IDENTITY_SECRET_MALFORMED'
  | 'IDENTITY_SPIFFE_ID_MISMATCH'
  | 'IDENTITY_FILES_UNREADABLE'
  | 'IDENTITY_INVALID_SVID'
  | 'IDENTITY_EXPIRED';
export class IdentityError extends MeshError<IdentityErrorCode> {}

/** A configuration value that is missing or invalid; the message names the key and the value. */
export type ConfigErrorCode = 'CONFIG_INVALID' | 'CONFIG_FILE_UNREADABLE' | 'CONFIG_FILE_UNSUPPORTED' | 'CONFIG_INTERPOLATION';
export class ConfigError extends MeshError<ConfigErrorCode> {}

/** True when `error` is a mesh-layer error carrying `code`. */
export function hasCode<C extends string>(error: unknown, code: C): error is MeshError<C> {
  return error instanceof MeshError && error.code === code;
}

/**
 * A mesh call that did not succeed. gRPC statuses map onto these codes so handlers branch on
 * meaning (`MESH_NOT_FOUND` → 404, `MESH_UNAVAILABLE`/`MESH_BREAKER_OPEN` → 503) rather than on
 * transport details. `grpcCode` keeps the original status where there was one.
 */
export type MeshCallErrorCode =
  | 'MESH_NOT_FOUND'
  | 'MESH_INVALID_ARGUMENT'
  | 'MESH_PERMISSION_DENIED'
  | 'MESH_UNAUTHENTICATED'
  | 'MESH_UNAVAILABLE'
  | 'MESH_DEADLINE_EXCEEDED'
  | 'MESH_RESOURCE_EXHAUSTED'
  | 'MESH_CANCELLED'
  | 'MESH_INTERNAL'
  | 'MESH_BREAKER_OPEN'
  | 'MESH_BULKHEAD_FULL'
  | 'MESH_NO_TIME_LEFT'
  | 'MESH_SERVER_NOT_AUTHORIZED';
export class MeshCallError extends MeshError<MeshCallErrorCode> {
  readonly service: string;
  readonly method: string;
  readonly grpcCode: number | undefined;

  constructor(
    code: MeshCallErrorCode,
    message: string,
    details: { service: string; method: string; grpcCode?: number },
    options?: ErrorOptions,
  ) {
    super(code, message, options);
    this.service = details.service;
    this.method = details.method;
    this.grpcCode = details.grpcCode;
  }
}
