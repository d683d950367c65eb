import { base64url, compactVerify } from 'jose';
import { MeshError } from '../errors.js';
import type { JwtBundleSource } from './jwt-bundle.js';
import { JwtSvidError, type JwtSvidErrorCode } from './jwt-svid-error.js';
import { parseSpiffeId, type SpiffeId } from './spiffe-id.js';

/** JWT-SVID §2.1: the only `alg` values a validator may accept (RFC 7518 §3.3–3.5). */
export const JWT_SVID_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'ES512', 'PS256', 'PS384', 'PS512'] as const;
const ALGORITHMS: ReadonlySet<string> = new Set(JWT_SVID_ALGORITHMS);

/** JWT-SVID §2: "Any header not described here, registered or private, MUST NOT be included". */
const HEADER_PARAMETERS: ReadonlySet<string> = new Set(['alg', 'kid', 'typ']);

/** go-jose's `DefaultLeeway`, which go-spiffe validates with; also the most this validator allows. */
export const MAX_LEEWAY_SECONDS = 60;

/** A validated JWT-SVID. */
export interface JwtSvid {
  /** The SPIFFE ID of the `sub` claim. */
  readonly id: SpiffeId;
  /** The `aud` claim, always as a list. */
  readonly audience: readonly string[];
  /** The `exp` claim. */
  readonly expiry: Date;
  /** The key ID (`kid`) of the JWT authority that signed it. */
  readonly keyId: string;
  /** Every claim of the payload. */
  readonly claims: Readonly<Record<string, unknown>>;
}

export interface JwtSvidValidatorOptions {
  /** The audience this validator identifies with: a token must list it in `aud`. Never empty. */
  audience: string;
  /** Where the JWT authorities of a token's trust domain come from. */
  bundles: JwtBundleSource;
  /** Clock skew tolerated on `exp`, `nbf` and `iat`, at most {@link MAX_LEEWAY_SECONDS}. */
  leewaySeconds: number;
  /** Epoch milliseconds. */
  now: () => number;
}

export const JWT_SVID_VALIDATOR_DEFAULTS = { leewaySeconds: MAX_LEEWAY_SECONDS, now: Date.now } as const satisfies Partial<JwtSvidValidatorOptions>;

function fail(code: JwtSvidErrorCode, message: string, cause?: unknown): never {
  throw new JwtSvidError(code, message, cause === undefined ? undefined : { cause });
}

/** A base64url JSON object, or `undefined`. */
function decodeObject(part: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(base64url.decode(part)));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

// RFC 7515 §7.1: BASE64URL(header) '.' BASE64URL(payload) '.' BASE64URL(signature).
const COMPACT = /^([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]*)$/;

/** A NumericDate claim (RFC 7519 §2) in seconds, `undefined` when absent. */
function numericDate(claims: Record<string, unknown>, name: string): number | undefined {
  const value = claims[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    fail('JWT_SVID_MALFORMED', `unable to get claims from token: ${name} must be a NumericDate, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** RFC 7519 §4.1.3: one string or an array of strings. */
function audienceOf(claims: Record<string, unknown>): string[] {
  const aud = claims.aud;
  if (aud === undefined) return [];
  if (typeof aud === 'string') return [aud];
  if (Array.isArray(aud) && aud.every((a) => typeof a === 'string')) return aud as string[];
  fail('JWT_SVID_MALFORMED', `unable to get claims from token: aud must be a string or an array of strings, got ${JSON.stringify(aud)}`);
}

/**
 * Validates JWT-SVIDs exactly per the JWT-SVID spec and as strictly as go-spiffe's
 * `jwtsvid.ParseAndValidate`, in its order: compact serialization only; `alg` one of
 * {@link JWT_SVID_ALGORITHMS}, checked before anything else; `typ` absent, `JWT` or `JOSE`; no other header parameter; `sub`
 * and `exp` present; `sub` a SPIFFE ID; `kid` present; the key found by `kid` among the JWT
 * authorities of the bundle of the `sub`'s trust domain; the signature; then `aud` containing
 * the configured audience, `nbf` and `iat` not in the future and `exp` not past, each within the
 * leeway. Unlike go-spiffe, an empty audience is refused when the validator is built, not
 * silently skipped.
 */
export class JwtSvidValidator {
  readonly audience: string;
  readonly #options: JwtSvidValidatorOptions;

  /** @throws {JwtSvidError} `JWT_SVID_BAD_OPTIONS` for an empty audience or a leeway outside 0–60 s. */
  constructor(opts: Partial<JwtSvidValidatorOptions> & Pick<JwtSvidValidatorOptions, 'audience' | 'bundles'>) {
    const options = { ...JWT_SVID_VALIDATOR_DEFAULTS, ...opts };
    if (typeof options.audience !== 'string' || options.audience.trim() === '') {
      fail('JWT_SVID_BAD_OPTIONS', 'a jwt-svid validator needs the audience it identifies with, got an empty one');
    }
    if (!(options.leewaySeconds >= 0 && options.leewaySeconds <= MAX_LEEWAY_SECONDS)) {
      fail('JWT_SVID_BAD_OPTIONS', `leeway must be from 0 to ${MAX_LEEWAY_SECONDS} seconds, got ${options.leewaySeconds}`);
    }
    this.audience = options.audience;
    this.#options = options;
  }

  /**
   * Parses and validates `token`; `deadline` (epoch ms) bounds any bundle fetch it causes.
   *
   * @throws {JwtSvidError} the code of the first broken rule; the message never quotes the token.
   * @throws {JwtBundleError} when the bundle of the token's trust domain could not be obtained.
   */
  async validate(token: string, context: { deadline?: number } = {}): Promise<JwtSvid> {
    const parts = typeof token === 'string' ? COMPACT.exec(token) : null;
    if (parts === null) {
      const json = typeof token === 'string' && token.trimStart().startsWith('{');
      fail(
        'JWT_SVID_MALFORMED',
        json
          ? 'unable to parse JWT token: the JWS JSON serialization is not allowed, a JWT-SVID uses the compact serialization'
          : 'unable to parse JWT token: it must be the JWS compact serialization (three base64url parts separated by dots)',
      );
    }
    const [, headerPart = '', payloadPart = ''] = parts;
    const header = decodeObject(headerPart);
    if (header === undefined) fail('JWT_SVID_MALFORMED', 'unable to parse JWT token: the header is not a base64url JSON object');

    // JWT-SVID §4: "Validators MUST ensure that the alg header is set to a supported value before
    // processing": `none` and HS* never reach a key, whatever the bundle holds.
    const alg = header.alg;
    if (typeof alg !== 'string' || !ALGORITHMS.has(alg)) {
      fail('JWT_SVID_UNSUPPORTED_ALGORITHM', `unsupported token signature algorithm ${JSON.stringify(alg ?? null)}`);
    }
    if ('typ' in header && header.typ !== 'JWT' && header.typ !== 'JOSE') {
      fail('JWT_SVID_INVALID_TYPE', `token header type not equal to either JWT or JOSE, got ${JSON.stringify(header.typ)}`);
    }
    // Stricter than go-spiffe: `jku`, `jwk`, `x5u`, `crit`, … never steer a JWT-SVID's validation.
    const extra = Object.keys(header).filter((name) => !HEADER_PARAMETERS.has(name));
    if (extra.length > 0) {
      fail('JWT_SVID_UNEXPECTED_HEADER', `token header may hold only alg, kid and typ, it also has ${extra.map((n) => JSON.stringify(n)).join(', ')}`);
    }

    const claims = decodeObject(payloadPart);
    if (claims === undefined) fail('JWT_SVID_MALFORMED', 'unable to get claims from token: the payload is not a base64url JSON object');
    if (claims.sub !== undefined && typeof claims.sub !== 'string') {
      fail('JWT_SVID_MALFORMED', `unable to get claims from token: sub must be a string, got ${JSON.stringify(claims.sub)}`);
    }
    const exp = numericDate(claims, 'exp');
    const nbf = numericDate(claims, 'nbf');
    const iat = numericDate(claims, 'iat');
    const audience = audienceOf(claims);
    if (!claims.sub) fail('JWT_SVID_MISSING_SUBJECT', 'token missing subject claim');
    if (exp === undefined) fail('JWT_SVID_MISSING_EXPIRATION', 'token missing exp claim');

    let id: SpiffeId;
    try {
      id = parseSpiffeId(claims.sub);
    } catch (error) {
      if (!(error instanceof MeshError)) throw error;
      fail('JWT_SVID_INVALID_SUBJECT', `token has an invalid subject claim: ${error.message}`, error);
    }

    const keyId = header.kid;
    if (typeof keyId !== 'string' || keyId === '') fail('JWT_SVID_MISSING_KEY_ID', 'token header missing key id');
    const td = id.trustDomain.name;
    const bundle = await this.#options.bundles.jwtBundleFor(id.trustDomain, {
      keyId,
      ...(context.deadline === undefined ? {} : { deadline: context.deadline }),
    });
    if (bundle === undefined) fail('JWT_SVID_NO_BUNDLE', `no bundle found for trust domain ${JSON.stringify(td)}`);
    if (!bundle.hasAuthority(keyId)) {
      fail('JWT_SVID_NO_AUTHORITY', `no JWT authority ${JSON.stringify(keyId)} found for trust domain ${JSON.stringify(td)}`);
    }
    try {
      await compactVerify(token, await bundle.keyFor(keyId, alg), { algorithms: [alg] });
    } catch (error) {
      fail('JWT_SVID_INVALID_SIGNATURE', `unable to get claims from token: ${(error as Error).message}`, error);
    }

    // go-jose's Claims.ValidateWithLeeway, in its order.
    const now = this.#options.now() / 1000;
    const leeway = this.#options.leewaySeconds;
    if (!audience.includes(this.audience)) {
      fail('JWT_SVID_UNEXPECTED_AUDIENCE', `expected audience in ${JSON.stringify([this.audience])} (audience=${JSON.stringify(audience)})`);
    }
    if (nbf !== undefined && now + leeway < nbf) fail('JWT_SVID_NOT_YET_VALID', 'token not valid yet');
    if (now - leeway > exp) fail('JWT_SVID_EXPIRED', 'token has expired');
    if (iat !== undefined && now + leeway < iat) fail('JWT_SVID_ISSUED_IN_THE_FUTURE', 'token issued in the future');

    return { id, audience, expiry: new Date(exp * 1000), keyId, claims };
  }
}
