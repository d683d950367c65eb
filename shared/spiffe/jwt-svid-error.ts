import { MeshError } from '../errors.js';

/**
 * A JWT-SVID that breaks the JWT-SVID spec or does not validate. Messages use go-spiffe's wording
 * (`token has expired`, `token header missing key id`, …) and never quote the token or its signature.
 */
export type JwtSvidErrorCode =
  | 'JWT_SVID_MALFORMED'
  | 'JWT_SVID_UNSUPPORTED_ALGORITHM'
  | 'JWT_SVID_INVALID_TYPE'
  | 'JWT_SVID_UNEXPECTED_HEADER'
  | 'JWT_SVID_MISSING_SUBJECT'
  | 'JWT_SVID_MISSING_EXPIRATION'
  | 'JWT_SVID_INVALID_SUBJECT'
  | 'JWT_SVID_MISSING_KEY_ID'
  | 'JWT_SVID_NO_BUNDLE'
  | 'JWT_SVID_NO_AUTHORITY'
  | 'JWT_SVID_INVALID_SIGNATURE'
  | 'JWT_SVID_UNEXPECTED_AUDIENCE'
  | 'JWT_SVID_NOT_YET_VALID'
  | 'JWT_SVID_EXPIRED'
  | 'JWT_SVID_ISSUED_IN_THE_FUTURE'
  | 'JWT_SVID_BAD_OPTIONS';
export class JwtSvidError extends MeshError<JwtSvidErrorCode> {}

/** A JWT bundle (SPIFFE bundle or JWKS) that is malformed, or could not be read or fetched. */
export type JwtBundleErrorCode =
  | 'JWT_BUNDLE_MALFORMED'
  | 'JWT_BUNDLE_UNREADABLE'
  | 'JWT_BUNDLE_FETCH_FAILED'
  | 'JWT_BUNDLE_ENDPOINT_NOT_AUTHORIZED'
  | 'JWT_BUNDLE_TIMEOUT';
export class JwtBundleError extends MeshError<JwtBundleErrorCode> {}
