import { JWT_BUNDLE_FORMATS, type JwtBundleFormat } from '../shared/spiffe/jwt-bundle.js';
import { parseTrustDomain } from '../shared/spiffe/trust-domain.js';
import { BrokenRule, list, oneOf, quote, spiffeId, text, type ContextField } from './context-fields.js';

/** Who may call `GET /users/{userId}`: AWS principals by SigV4, or mesh workloads by JWT-SVID. */
export type UserApiAuthorization = 'iam' | 'jwt-svid';
export const USER_API_AUTHORIZATIONS = ['iam', 'jwt-svid'] as const satisfies readonly UserApiAuthorization[];

/** The knobs of get-user-info's HTTP route; the `jwtSvid*` ones apply with `userApiAuthorization: jwt-svid` only. */
export interface UserApiConfig {
  userApiAuthorization: UserApiAuthorization;
  /** `JWT_SVID_AUDIENCE`; default the functions' own SPIFFE ID (`spiffeId`). */
  jwtSvidAudience?: string;
  /** `JWT_SVID_ALLOWED_IDS`: callers' SPIFFE IDs or `spiffe://<trust domain>`. */
  jwtSvidAllowedIds?: string[];
  /** `JWT_SVID_BUNDLE_URL`: the trust domain's bundle endpoint or OIDC discovery provider `/keys`. */
  jwtSvidBundleUrl?: string;
  /** `JWT_SVID_BUNDLE_FORMAT`. */
  jwtSvidBundleFormat: JwtBundleFormat;
  /** `JWT_SVID_BUNDLE_ENDPOINT_SPIFFE_ID`: set for an `https_spiffe` bundle endpoint. */
  jwtSvidBundleEndpointSpiffeId?: string;
  /** `JWT_SVID_FEDERATED_BUNDLE_URLS`: trust domain → https URL (or `{url, format, endpointSpiffeId}`). */
  jwtSvidFederatedBundleUrls?: Record<string, unknown>;
  /** Also put an API Gateway JWT authorizer in front, trusting this issuer (SPIRE's `jwt_issuer`). */
  jwtSvidIssuer?: string;
}

export const USER_API_DEFAULTS = {
  userApiAuthorization: 'iam',
  jwtSvidBundleFormat: 'spiffe',
} as const satisfies Partial<UserApiConfig>;

const HTTPS_URL = text(/^https:\/\/[^\s/?#]+(\/[^\s]*)?$/, 'an https url');

/** A JSON object of trust domain → URL or object, from cdk.json or as JSON text on the command line. */
const federatedUrls: ContextField<Record<string, unknown>> = (raw) => {
  let value = raw;
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw);
    } catch {
      value = undefined;
    }
  }
  const rule = new BrokenRule('must be a JSON object of trust domain → https url');
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return rule;
  for (const key of Object.keys(value)) {
    try {
      parseTrustDomain(key);
    } catch {
      return rule;
    }
  }
  return value as Record<string, unknown>;
};

export const USER_API_FIELDS: { [K in keyof UserApiConfig]-?: ContextField<NonNullable<UserApiConfig[K]>> } = {
  userApiAuthorization: oneOf(USER_API_AUTHORIZATIONS),
  jwtSvidAudience: text(/^\S+$/, 'an audience (e.g. spiffe://jia.app/payment-functions)'),
  jwtSvidAllowedIds: (raw) => {
    const ids = list(/^spiffe:\/\/\S+$/, 'SPIFFE IDs or trust domain IDs')(raw);
    if (ids instanceof BrokenRule) return ids;
    for (const id of ids) if (spiffeId(id) instanceof BrokenRule) return spiffeId(id) as BrokenRule;
    return ids;
  },
  jwtSvidBundleUrl: HTTPS_URL,
  jwtSvidBundleFormat: oneOf(JWT_BUNDLE_FORMATS),
  jwtSvidBundleEndpointSpiffeId: spiffeId,
  jwtSvidFederatedBundleUrls: federatedUrls,
  jwtSvidIssuer: HTTPS_URL,
};

/** The rules that span the user API's keys. */
export function userApiIssues(config: UserApiConfig): string[] {
  const issues: string[] = [];
  const jwtKeys = (Object.keys(USER_API_FIELDS) as (keyof UserApiConfig)[]).filter(
    (key) => key.startsWith('jwtSvid') && key !== 'jwtSvidBundleFormat' && config[key] !== undefined,
  );
  if (config.userApiAuthorization === 'iam') {
    if (jwtKeys.length > 0) issues.push(`context ${jwtKeys.join(', ')} apply only with userApiAuthorization jwt-svid, got ${quote('iam')}`);
    return issues;
  }
  if (config.jwtSvidAllowedIds === undefined) issues.push('context jwtSvidAllowedIds must be set when userApiAuthorization is jwt-svid');
  if (config.jwtSvidBundleUrl === undefined) issues.push('context jwtSvidBundleUrl must be set when userApiAuthorization is jwt-svid');
  return issues;
}

/** The variables get-user-info needs to authenticate JWT-SVID callers (none with `iam`). */
export function jwtSvidEnvironment(config: UserApiConfig & { spiffeId: string }): Record<string, string> {
  if (config.userApiAuthorization !== 'jwt-svid') return {};
  return {
    JWT_SVID_AUDIENCE: config.jwtSvidAudience ?? config.spiffeId,
    JWT_SVID_ALLOWED_IDS: (config.jwtSvidAllowedIds ?? []).join(','),
    JWT_SVID_BUNDLE_URL: config.jwtSvidBundleUrl ?? '',
    JWT_SVID_BUNDLE_FORMAT: config.jwtSvidBundleFormat,
    ...(config.jwtSvidBundleEndpointSpiffeId ? { JWT_SVID_BUNDLE_ENDPOINT_SPIFFE_ID: config.jwtSvidBundleEndpointSpiffeId } : {}),
    ...(config.jwtSvidFederatedBundleUrls ? { JWT_SVID_FEDERATED_BUNDLE_URLS: JSON.stringify(config.jwtSvidFederatedBundleUrls) } : {}),
  };
}
