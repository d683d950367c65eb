import { createHmac } from 'node:crypto';
import { base64url, CompactSign, exportJWK, FlattenedSign, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { JwtBundle, JwtBundleSet } from '../../../shared/spiffe/jwt-bundle.js';
import { JwtSvidValidator } from '../../../shared/spiffe/jwt-svid.js';
import { JwtSvidError } from '../../../shared/spiffe/jwt-svid-error.js';
import { parseTrustDomain } from '../../../shared/spiffe/trust-domain.js';

/**
 * go-spiffe's `TestParseAndValidate` (v2/svid/jwtsvid/svid_test.go), ported case by case through
 * the public API: an ES384 key (`authority1`) and an RSA-2048 key (`authority2`) in the bundle of
 * `trustdomain`, tokens signed by go-jose's rules (`typ: JWT`), audience `audience`. Plus the
 * cases the JWT-SVID spec adds: `alg: none`, HS256 keyed with the public key's bytes, the JWS
 * JSON serialization, and authorities listed without `use: "jwt-svid"`.
 */

// The HS256 example token of jwt.io that go-spiffe's test uses as is.
const HS256_TOKEN =
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG' +
  '4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c';

const NOW = Date.UTC(2026, 0, 1, 12, 0, 0);
const now = Math.floor(NOW / 1000);
const trustDomain = parseTrustDomain('trustdomain');

let key1: { privateKey: CryptoKey; publicKey: CryptoKey; jwk: JWK };
let key2: { privateKey: CryptoKey; publicKey: CryptoKey; jwk: JWK };
let bundle: JwtBundle;

beforeAll(async () => {
  const [ec, rsa] = await Promise.all([generateKeyPair('ES384', { extractable: true }), generateKeyPair('RS256', { modulusLength: 2048, extractable: true })]);
  key1 = { ...ec, jwk: await exportJWK(ec.publicKey) };
  key2 = { ...rsa, jwk: await exportJWK(rsa.publicKey) };
  bundle = JwtBundle.parse(trustDomain, {
    keys: [
      { ...key1.jwk, kid: 'authority1', use: 'jwt-svid' },
      { ...key2.jwk, kid: 'authority2', use: 'jwt-svid' },
    ],
  });
});

interface Claims {
  sub?: string;
  iss?: string;
  exp?: number;
  aud?: string | string[];
  iat?: number;
  nbf?: number;
}

const validClaims = (overrides: Claims = {}): Claims => ({
  sub: 'spiffe://trustdomain/host',
  iss: 'issuer',
  exp: now + 60,
  aud: ['audience'],
  iat: now,
  ...overrides,
});

/** go-spiffe's `generateToken`: the key's algorithm, `typ: JWT` unless `typ` says otherwise, `kid` when non-empty. */
async function generateToken(claims: Claims, signer: typeof key1, keyId: string, typ?: string): Promise<string> {
  const alg = signer === key1 ? 'ES384' : 'RS256';
  return new CompactSign(new TextEncoder().encode(JSON.stringify(claims)))
    .setProtectedHeader({ alg, typ: typ ?? 'JWT', ...(keyId ? { kid: keyId } : {}) })
    .sign(signer.privateKey);
}

function validator(audience = 'audience', bundles = bundle as JwtBundle | JwtBundleSet) {
  return new JwtSvidValidator({ audience, bundles, now: () => NOW });
}

async function failureOf(token: string, v = validator()): Promise<JwtSvidError> {
  const error = await v.validate(token).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(JwtSvidError);
  return error as JwtSvidError;
}

describe('JwtSvidValidator (go-spiffe TestParseAndValidate)', () => {
  it('validates a token and returns its SPIFFE ID, audience, expiry and claims (success)', async () => {
    const claims = validClaims();
    const token = await generateToken(claims, key1, 'authority1');

    const svid = await validator().validate(token);

    expect(svid.id.toString()).toBe('spiffe://trustdomain/host');
    expect(svid.audience).toEqual(['audience']);
    expect(svid.expiry.getTime()).toBe((now + 60) * 1000);
    expect(svid.keyId).toBe('authority1');
    expect(svid.claims).toEqual(claims);
  });

  it('validates a token signed by the RSA authority', async () => {
    const svid = await validator().validate(await generateToken(validClaims(), key2, 'authority2'));

    expect(svid.keyId).toBe('authority2');
  });

  const cases: { name: string; token: () => Promise<string> | string; audience?: string; code: string; message: string }[] = [
    { name: 'malformed', token: () => 'invalid token', code: 'JWT_SVID_MALFORMED', message: 'unable to parse JWT token' },
    { name: 'unsupported algorithm', token: () => HS256_TOKEN, code: 'JWT_SVID_UNSUPPORTED_ALGORITHM', message: 'unsupported token signature algorithm "HS256"' },
    {
      name: 'missing subject',
      token: () => generateToken(validClaims({ sub: undefined }), key1, 'authority1'),
      code: 'JWT_SVID_MISSING_SUBJECT',
      message: 'token missing subject claim',
    },
    {
      name: 'missing expiration claim',
      token: () => generateToken(validClaims({ exp: undefined }), key1, 'authority1'),
      code: 'JWT_SVID_MISSING_EXPIRATION',
      message: 'token missing exp claim',
    },
    {
      name: 'expired',
      token: () => generateToken(validClaims({ exp: now - 61 }), key1, 'authority1'),
      code: 'JWT_SVID_EXPIRED',
      message: 'token has expired',
    },
    {
      name: 'unexpected audience',
      audience: 'another',
      token: () => generateToken(validClaims(), key1, 'authority1'),
      code: 'JWT_SVID_UNEXPECTED_AUDIENCE',
      message: 'expected audience in ["another"] (audience=["audience"])',
    },
    {
      name: 'invalid subject claim',
      token: () => generateToken(validClaims({ sub: 'invalid subject' }), key1, 'authority1'),
      code: 'JWT_SVID_INVALID_SUBJECT',
      message: 'token has an invalid subject claim: scheme is missing or invalid',
    },
    {
      name: 'missing key',
      token: () => generateToken(validClaims(), key1, ''),
      code: 'JWT_SVID_MISSING_KEY_ID',
      message: 'token header missing key id',
    },
    {
      name: 'no bundle for trust domain',
      token: () => generateToken(validClaims({ sub: 'spiffe://another.domain/host' }), key1, 'noAuthority'),
      code: 'JWT_SVID_NO_BUNDLE',
      message: 'no bundle found for trust domain "another.domain"',
    },
    {
      name: 'no bundle for authority',
      token: () => generateToken(validClaims(), key1, 'noKey'),
      code: 'JWT_SVID_NO_AUTHORITY',
      message: 'no JWT authority "noKey" found for trust domain "trustdomain"',
    },
    {
      name: 'mismatched JWT authority',
      token: () => generateToken(validClaims(), key2, 'authority1'),
      code: 'JWT_SVID_INVALID_SIGNATURE',
      message: 'unable to get claims from token',
    },
    {
      name: 'invalid typ',
      token: () => generateToken(validClaims(), key1, 'authority1', 'invalid'),
      code: 'JWT_SVID_INVALID_TYPE',
      message: 'token header type not equal to either JWT or JOSE',
    },
  ];

  it.each(cases)('refuses a token: $name', async ({ token, audience, code, message }) => {
    const error = await failureOf(await token(), validator(audience));

    expect(error.code).toBe(code);
    expect(error.message.startsWith(message)).toBe(true);
  });
});

describe('JwtSvidValidator (beyond go-spiffe)', () => {
  it('refuses alg none before looking for a key', async () => {
    const header = base64url.encode(JSON.stringify({ alg: 'none', typ: 'JWT', kid: 'authority1' }));
    const payload = base64url.encode(JSON.stringify(validClaims()));

    const error = await failureOf(`${header}.${payload}.`);

    expect(error.code).toBe('JWT_SVID_UNSUPPORTED_ALGORITHM');
    expect(error.message).toBe('unsupported token signature algorithm "none"');
  });

  it('refuses HS256 keyed with the bytes of the authority\'s own public key (algorithm confusion)', async () => {
    const header = base64url.encode(JSON.stringify({ alg: 'HS256', typ: 'JWT', kid: 'authority2' }));
    const payload = base64url.encode(JSON.stringify(validClaims()));
    const publicKeyBytes = JSON.stringify(bundle.findAuthority('authority2'));
    const mac = createHmac('sha256', publicKeyBytes).update(`${header}.${payload}`).digest();

    const error = await failureOf(`${header}.${payload}.${base64url.encode(mac)}`);

    expect(error.code).toBe('JWT_SVID_UNSUPPORTED_ALGORITHM');
  });

  it('refuses the JWS JSON serialization of an otherwise valid token', async () => {
    const jws = await new FlattenedSign(new TextEncoder().encode(JSON.stringify(validClaims())))
      .setProtectedHeader({ alg: 'ES384', typ: 'JWT', kid: 'authority1' })
      .sign(key1.privateKey);

    const error = await failureOf(JSON.stringify(jws));

    expect(error.code).toBe('JWT_SVID_MALFORMED');
    expect(error.message).toContain('JSON serialization is not allowed');
  });

  it.each([
    ['use: "sig"', { use: 'sig' }],
    ['no use', {}],
    ['use: "x509-svid"', { use: 'x509-svid' }],
  ])('does not count a key listed with %s as a JWT authority', async (_name, use) => {
    const sigOnly = JwtBundle.parse(trustDomain, { keys: [{ ...key1.jwk, kid: 'authority1', ...use }] });
    const token = await generateToken(validClaims(), key1, 'authority1');

    const error = await failureOf(token, validator('audience', sigOnly));

    expect(error.code).toBe('JWT_SVID_NO_AUTHORITY');
  });

  it.each([
    ['jwk', { jwk: { kty: 'oct', k: 'c2VjcmV0' } }],
    ['jku', { jku: 'https://attacker.example/keys' }],
    ['x5u', { x5u: 'https://attacker.example/cert.pem' }],
  ])('refuses a header with %s: the JWT-SVID spec allows only alg, kid and typ', async (name, extra) => {
    const token = await new CompactSign(new TextEncoder().encode(JSON.stringify(validClaims())))
      .setProtectedHeader({ alg: 'ES384', typ: 'JWT', kid: 'authority1', ...extra })
      .sign(key1.privateKey);

    const error = await failureOf(token);

    expect(error.code).toBe('JWT_SVID_UNEXPECTED_HEADER');
    expect(error.message).toContain(JSON.stringify(name));
  });

  it('accepts a typ of JOSE and a token without typ', async () => {
    const jose = await generateToken(validClaims(), key1, 'authority1', 'JOSE');
    const bare = await new CompactSign(new TextEncoder().encode(JSON.stringify(validClaims())))
      .setProtectedHeader({ alg: 'ES384', kid: 'authority1' })
      .sign(key1.privateKey);

    await expect(validator().validate(jose)).resolves.toMatchObject({ keyId: 'authority1' });
    await expect(validator().validate(bare)).resolves.toMatchObject({ keyId: 'authority1' });
  });

  it('refuses a token without aud', async () => {
    const error = await failureOf(await generateToken(validClaims({ aud: undefined }), key1, 'authority1'));

    expect(error.code).toBe('JWT_SVID_UNEXPECTED_AUDIENCE');
  });

  it('accepts aud as a single string and as one of several values', async () => {
    await expect(validator().validate(await generateToken(validClaims({ aud: 'audience' }), key1, 'authority1'))).resolves.toBeDefined();
    await expect(validator().validate(await generateToken(validClaims({ aud: ['other', 'audience'] }), key1, 'authority1'))).resolves.toBeDefined();
  });

  it.each([
    ['exp 60 s ago is within the leeway', { exp: now - 60 }, undefined],
    ['nbf 61 s ahead', { nbf: now + 61 }, 'JWT_SVID_NOT_YET_VALID'],
    ['nbf 60 s ahead is within the leeway', { nbf: now + 60 }, undefined],
    ['iat 61 s ahead', { iat: now + 61 }, 'JWT_SVID_ISSUED_IN_THE_FUTURE'],
  ] as const)('applies the 60 s leeway: %s', async (_name, claims, code) => {
    const result = validator().validate(await generateToken(validClaims(claims), key1, 'authority1'));

    if (code === undefined) await expect(result).resolves.toBeDefined();
    else await expect(result).rejects.toMatchObject({ code });
  });

  it('applies a smaller leeway when configured', async () => {
    const strict = new JwtSvidValidator({ audience: 'audience', bundles: bundle, leewaySeconds: 0, now: () => NOW });

    await expect(strict.validate(await generateToken(validClaims({ exp: now - 1 }), key1, 'authority1'))).rejects.toMatchObject({ code: 'JWT_SVID_EXPIRED' });
  });

  it('refuses to be built with an empty audience or a leeway above 60 s', () => {
    expect(() => new JwtSvidValidator({ audience: '', bundles: bundle })).toThrow(expect.objectContaining({ code: 'JWT_SVID_BAD_OPTIONS' }));
    expect(() => new JwtSvidValidator({ audience: 'a', bundles: bundle, leewaySeconds: 61 })).toThrow(expect.objectContaining({ code: 'JWT_SVID_BAD_OPTIONS' }));
  });

  it('refuses a token whose signature was altered, and never quotes the token', async () => {
    const token = await generateToken(validClaims(), key1, 'authority1');
    const tampered = `${token.slice(0, -4)}${token.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`;

    const error = await failureOf(tampered);

    expect(error.code).toBe('JWT_SVID_INVALID_SIGNATURE');
    expect(error.message).not.toContain(token.split('.')[2]!);
  });

  it('refuses a token whose payload was changed after signing', async () => {
    const [header, , signature] = (await generateToken(validClaims(), key1, 'authority1')).split('.');
    const forged = base64url.encode(JSON.stringify(validClaims({ sub: 'spiffe://trustdomain/admin' })));

    const error = await failureOf(`${header}.${forged}.${signature}`);

    expect(error.code).toBe('JWT_SVID_INVALID_SIGNATURE');
  });

  it('finds the bundle of the token\'s trust domain in a set', async () => {
    const other = JwtBundle.parse(parseTrustDomain('other.td'), { keys: [{ ...key2.jwk, kid: 'k', use: 'jwt-svid' }] });
    const set = new JwtBundleSet([bundle, other]);
    const token = await generateToken(validClaims({ sub: 'spiffe://other.td/svc' }), key2, 'k');

    await expect(validator('audience', set).validate(token)).resolves.toMatchObject({ keyId: 'k' });
  });

  it('does not accept a key of one trust domain for a token of another', async () => {
    const other = JwtBundle.parse(parseTrustDomain('other.td'), { keys: [] });
    const set = new JwtBundleSet([bundle, other]);
    const token = await generateToken(validClaims({ sub: 'spiffe://other.td/svc' }), key1, 'authority1');

    const error = await failureOf(token, validator('audience', set));

    expect(error.code).toBe('JWT_SVID_NO_AUTHORITY');
  });
});
