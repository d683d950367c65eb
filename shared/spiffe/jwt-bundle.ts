import { createPublicKey } from 'node:crypto';
import { importJWK, type CryptoKey, type JWK } from 'jose';
import { JwtBundleError } from './jwt-svid-error.js';
import type { TrustDomain } from './trust-domain.js';

/**
 * How a bundle document lists its JWT authorities:
 * - `spiffe`: a SPIFFE bundle (SPIFFE Trust Domain and Bundle §4): only JWKs with
 *   `use: "jwt-svid"` are JWT authorities, every other `use` (or none) is ignored;
 * - `jwks`: a plain RFC 7517 JWKS such as SPIRE's OIDC discovery provider serves at `/keys`: JWKs
 *   without `use` or with `use: "sig"` are JWT authorities.
 */
export type JwtBundleFormat = 'spiffe' | 'jwks';
export const JWT_BUNDLE_FORMATS = ['spiffe', 'jwks'] as const satisfies readonly JwtBundleFormat[];

/** The public members of each key type a JWT-SVID algorithm can use (RSA: RS*, PS*; EC: ES*). */
const PUBLIC_MEMBERS: Readonly<Record<string, readonly string[]>> = {
  RSA: ['kty', 'n', 'e'],
  EC: ['kty', 'crv', 'x', 'y'],
};

function malformed(trustDomain: TrustDomain, rule: string, cause?: unknown): never {
  throw new JwtBundleError(
    'JWT_BUNDLE_MALFORMED',
    `jwt bundle for trust domain "${trustDomain.name}" ${rule}`,
    cause === undefined ? undefined : { cause },
  );
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A non-negative integer bundle parameter, `undefined` when absent. */
function optionalCount(doc: Record<string, unknown>, name: string, trustDomain: TrustDomain): number | undefined {
  const value = doc[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    malformed(trustDomain, `${name} must be a non-negative integer, got ${JSON.stringify(value)}`);
  }
  return value;
}

/**
 * The JWT authorities (signing keys by key ID) of one trust domain, as its SPIFFE bundle or JWKS
 * publishes them. Same role as go-spiffe's `jwtbundle.Bundle`; also a {@link JwtBundleSource} for
 * its own trust domain.
 */
export class JwtBundle {
  readonly #authorities: ReadonlyMap<string, JWK>;
  /** Keys imported for one algorithm each (WebCrypto binds a key to its algorithm), by `kid alg`. */
  readonly #imported = new Map<string, Promise<CryptoKey>>();

  constructor(
    readonly trustDomain: TrustDomain,
    authorities: ReadonlyMap<string, JWK>,
    /** `spiffe_refresh_hint` in seconds, when the document sets one. */
    readonly refreshHintSeconds?: number,
    /** `spiffe_sequence`, when the document sets one. */
    readonly sequence?: number,
  ) {
    this.#authorities = authorities;
  }

  /**
   * Parses a bundle document (JSON text or the parsed object) of `trustDomain`. Keys of an unknown
   * type or (per `format`) another use are ignored, as the bundle spec requires; a JWT authority
   * without `kid` or with unusable key material fails the whole document, as in go-spiffe.
   *
   * @throws {JwtBundleError} `JWT_BUNDLE_MALFORMED` naming the trust domain and the broken rule.
   */
  static parse(trustDomain: TrustDomain, document: string | unknown, format: JwtBundleFormat = 'spiffe'): JwtBundle {
    let doc: unknown = document;
    if (typeof document === 'string') {
      try {
        doc = JSON.parse(document);
      } catch (error) {
        malformed(trustDomain, `is not JSON: ${(error as Error).message}`, error);
      }
    }
    if (!isObject(doc)) malformed(trustDomain, 'must be a JSON object');
    // Bundle spec §4.1.3: "The parameter keys MUST be present" (go-spiffe: "no authorities found").
    if (!Array.isArray(doc.keys)) malformed(trustDomain, 'has no authorities: keys must be an array');
    const refreshHint = format === 'spiffe' ? optionalCount(doc, 'spiffe_refresh_hint', trustDomain) : undefined;
    const sequence = format === 'spiffe' ? optionalCount(doc, 'spiffe_sequence', trustDomain) : undefined;

    const authorities = new Map<string, JWK>();
    for (const [index, key] of (doc.keys as unknown[]).entries()) {
      if (!isObject(key)) malformed(trustDomain, `key ${index} must be a JSON object`);
      const counts = format === 'spiffe' ? key.use === 'jwt-svid' : key.use === undefined || key.use === 'sig';
      const members = typeof key.kty === 'string' ? PUBLIC_MEMBERS[key.kty] : undefined;
      if (!counts || members === undefined) continue;
      if (typeof key.kid !== 'string' || key.kid === '') {
        malformed(trustDomain, `jwt authority ${index} must have a key id (kid)`);
      }
      // Only the public members: a published private member (`d`) must never make a signing key.
      const jwk = Object.fromEntries(members.map((name) => [name, key[name]])) as JWK;
      try {
        createPublicKey({ key: jwk as import('node:crypto').JsonWebKey, format: 'jwk' });
      } catch (error) {
        malformed(trustDomain, `jwt authority ${JSON.stringify(key.kid)} is not a valid ${key.kty} public key`, error);
      }
      authorities.set(key.kid, jwk);
    }
    return new JwtBundle(trustDomain, authorities, refreshHint, sequence);
  }

  /** The key IDs of every JWT authority. */
  get keyIds(): string[] {
    return [...this.#authorities.keys()];
  }

  /** True when the bundle has an authority with this key ID. */
  hasAuthority(keyId: string): boolean {
    return this.#authorities.has(keyId);
  }

  /** The public JWK of the authority with `keyId`, or `undefined`. */
  findAuthority(keyId: string): JWK | undefined {
    return this.#authorities.get(keyId);
  }

  /**
   * The authority with `keyId` imported for `alg`; rejects when the key cannot be used with that
   * algorithm (e.g. an EC key for RS256). Cached per key and algorithm.
   */
  keyFor(keyId: string, alg: string): Promise<CryptoKey> {
    const jwk = this.#authorities.get(keyId);
    if (jwk === undefined) return Promise.reject(new Error(`no JWT authority "${keyId}"`));
    const cacheKey = `${keyId} ${alg}`;
    let key = this.#imported.get(cacheKey);
    if (key === undefined) {
      key = importJWK({ ...jwk, alg }, alg) as Promise<CryptoKey>;
      // A failed import is not cached: it says nothing about the next token's algorithm.
      key.catch(() => this.#imported.delete(cacheKey));
      this.#imported.set(cacheKey, key);
    }
    return key;
  }

  /** {@link JwtBundleSource} for this bundle's own trust domain only. */
  jwtBundleFor(trustDomain: TrustDomain): JwtBundle | undefined {
    return trustDomain.equals(this.trustDomain) ? this : undefined;
  }

  /** The bundle as a SPIFFE bundle document (`use: "jwt-svid"` keys). */
  toSpiffeBundle(): { keys: JWK[]; spiffe_refresh_hint?: number; spiffe_sequence?: number } {
    return {
      keys: [...this.#authorities].map(([kid, jwk]) => ({ ...jwk, kid, use: 'jwt-svid' })),
      ...(this.refreshHintSeconds === undefined ? {} : { spiffe_refresh_hint: this.refreshHintSeconds }),
      ...(this.sequence === undefined ? {} : { spiffe_sequence: this.sequence }),
    };
  }
}

/** Where a validator finds the JWT bundle of a token's trust domain. */
export interface JwtBundleSource {
  /**
   * The JWT bundle of `trustDomain`, or `undefined` when none is trusted. `hint.keyId` is the key
   * the token asks for, so a caching source can refresh once for a key it does not know yet;
   * `hint.deadline` (epoch ms) bounds any fetch.
   *
   * @throws {JwtBundleError} when the bundle is trusted but could not be obtained.
   */
  jwtBundleFor(trustDomain: TrustDomain, hint?: { keyId?: string; deadline?: number }): JwtBundle | undefined | Promise<JwtBundle | undefined>;
}

/** Bundles of several trust domains; a later bundle for the same trust domain wins. */
export class JwtBundleSet implements JwtBundleSource {
  readonly #byName = new Map<string, JwtBundle>();

  constructor(bundles: Iterable<JwtBundle>) {
    for (const bundle of bundles) this.#byName.set(bundle.trustDomain.name, bundle);
  }

  jwtBundleFor(trustDomain: TrustDomain): JwtBundle | undefined {
    return this.#byName.get(trustDomain.name);
  }
}
