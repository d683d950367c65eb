/**
 * A development JWT authority: mints JWT-SVIDs shaped like SPIRE's (`alg` ES256 by default, `kid`,
 * `typ: JWT`; claims `sub`, `aud`, `exp`, `iat`) and publishes its key as a SPIFFE bundle
 * (`use: "jwt-svid"`, `spiffe_sequence`, `spiffe_refresh_hint`) or as the JWKS SPIRE's OIDC
 * discovery provider serves (`alg`, optionally `use: "sig"`). Not for production: the key can be
 * written to disk so the CLI's separate runs share it.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CompactSign, exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';

export type DevJwtAlgorithm = 'ES256' | 'ES384' | 'RS256' | 'PS256';

export interface MintJwtSvidOptions {
  /** The caller's SPIFFE ID (not validated, so invalid tokens can be minted on purpose). */
  sub: string;
  /** One audience or several. */
  aud: string | string[];
  /** Lifetime from now; SPIRE's default JWT-SVID TTL is 5 minutes. */
  ttlSeconds?: number;
  /** Epoch seconds the token counts from (default now). */
  issuedAt?: number;
  /** Claims added or replaced (`undefined` removes one). */
  claims?: Record<string, unknown>;
  /** Header members added or replaced (`undefined` removes one). */
  header?: Record<string, unknown>;
}

/** Where {@link DevJwtAuthority.save} keeps a persisted authority: the private key and its bundle. */
export const DEV_JWT_FILES = { key: 'jwt-authority.json', bundle: 'jwt-bundle.json' } as const;

/** One trust domain's JWT signing key. */
export class DevJwtAuthority {
  private constructor(
    readonly trustDomain: string,
    readonly alg: DevJwtAlgorithm,
    readonly keyId: string,
    readonly publicJwk: JWK,
    private readonly privateJwk: JWK,
    private readonly signingKey: CryptoKey,
  ) {}

  /** A fresh key for `trustDomain` (bare, e.g. `jia.app`), with a random `kid` as SPIRE's. */
  static async create(trustDomain: string, alg: DevJwtAlgorithm = 'ES256'): Promise<DevJwtAuthority> {
    const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true, ...(alg.startsWith('ES') ? {} : { modulusLength: 2048 }) });
    const keyId = randomBytes(24).toString('base64url');
    return new DevJwtAuthority(trustDomain, alg, keyId, await exportJWK(publicKey), await exportJWK(privateKey), privateKey);
  }

  /** Reads an authority {@link save}d in `dir`. @throws when the files are missing or malformed. */
  static async load(dir: string): Promise<DevJwtAuthority> {
    const saved = JSON.parse(await readFile(join(dir, DEV_JWT_FILES.key), 'utf8')) as { trustDomain: string; alg: DevJwtAlgorithm; kid: string; privateJwk: JWK; publicJwk: JWK };
    const key = (await importJWK(saved.privateJwk, saved.alg)) as CryptoKey;
    return new DevJwtAuthority(saved.trustDomain, saved.alg, saved.kid, saved.publicJwk, saved.privateJwk, key);
  }

  /** Writes the private key (dev only) and the SPIFFE bundle into `dir`; returns the bundle's path. */
  async save(dir: string): Promise<string> {
    await mkdir(dir, { recursive: true });
    const state = { trustDomain: this.trustDomain, alg: this.alg, kid: this.keyId, privateJwk: this.privateJwk, publicJwk: this.publicJwk };
    await writeFile(join(dir, DEV_JWT_FILES.key), JSON.stringify(state), { mode: 0o600 });
    const bundlePath = join(dir, DEV_JWT_FILES.bundle);
    await writeFile(bundlePath, `${JSON.stringify(this.spiffeBundle(), null, 2)}\n`);
    return bundlePath;
  }

  /** A signed JWT-SVID in the compact serialization. */
  async mint(options: MintJwtSvidOptions): Promise<string> {
    const iat = options.issuedAt ?? Math.floor(Date.now() / 1000);
    const claims = withoutUndefined({
      aud: Array.isArray(options.aud) ? options.aud : [options.aud],
      exp: iat + (options.ttlSeconds ?? 300),
      iat,
      sub: options.sub,
      ...options.claims,
    });
    const header = withoutUndefined({ alg: this.alg, kid: this.keyId, typ: 'JWT', ...options.header });
    return new CompactSign(new TextEncoder().encode(JSON.stringify(claims)))
      .setProtectedHeader(header as { alg: string })
      .sign(this.signingKey);
  }

  /** The trust domain's bundle as a SPIFFE bundle endpoint serves it. */
  spiffeBundle(options: { refreshHintSeconds?: number; sequence?: number; extraKeys?: JWK[] } = {}): Record<string, unknown> {
    return {
      keys: [{ ...this.publicJwk, use: 'jwt-svid', kid: this.keyId }, ...(options.extraKeys ?? [])],
      spiffe_refresh_hint: options.refreshHintSeconds ?? 300,
      spiffe_sequence: options.sequence ?? 1,
    };
  }

  /** The JWKS SPIRE's OIDC discovery provider serves at `/keys` (`use: "sig"` only with `set_key_use`). */
  oidcJwks(options: { setKeyUse?: boolean } = {}): Record<string, unknown> {
    return { keys: [{ ...this.publicJwk, kid: this.keyId, alg: this.alg, ...(options.setKeyUse ? { use: 'sig' } : {}) }] };
  }
}

function withoutUndefined(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined));
}
