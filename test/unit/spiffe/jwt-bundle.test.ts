import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { JwtBundle } from '../../../shared/spiffe/jwt-bundle.js';
import { parseTrustDomain } from '../../../shared/spiffe/trust-domain.js';

/**
 * Bundle documents in the shapes SPIRE publishes: a SPIFFE bundle (`spire-server bundle show
 * -format spiffe`, a federation bundle endpoint) with `x509-svid` and `jwt-svid` keys,
 * `spiffe_sequence` and `spiffe_refresh_hint`; and the OIDC discovery provider's `/keys` JWKS,
 * whose keys carry `alg` and, with `set_key_use`, `use: "sig"`.
 */
const td = parseTrustDomain('jia.app');
let ec: JWK;
let rsa: JWK;

beforeAll(async () => {
  ec = await exportJWK((await generateKeyPair('ES256', { extractable: true })).publicKey);
  rsa = await exportJWK((await generateKeyPair('RS256', { extractable: true })).publicKey);
});

const x509Key = () => ({ use: 'x509-svid', ...ec, x5c: ['MIIB'] });

describe('JwtBundle.parse (SPIFFE bundle)', () => {
  it('reads the jwt-svid keys, the refresh hint and the sequence, and ignores x509-svid keys', () => {
    const bundle = JwtBundle.parse(td, JSON.stringify({
      spiffe_sequence: 12,
      spiffe_refresh_hint: 300,
      keys: [x509Key(), { use: 'jwt-svid', kid: 'k1', ...ec }, { use: 'jwt-svid', kid: 'k2', ...rsa }],
    }));

    expect(bundle.keyIds).toEqual(['k1', 'k2']);
    expect(bundle.refreshHintSeconds).toBe(300);
    expect(bundle.sequence).toBe(12);
  });

  it('ignores keys of an unknown type or use, as bundle spec §4.1.3 requires', () => {
    const bundle = JwtBundle.parse(td, {
      keys: [{ use: 'jwt-svid', kid: 'sym', kty: 'oct', k: 'c2VjcmV0' }, { use: 'wit-svid', kid: 'w', ...ec }, { use: 'JWT-SVID', kid: 'upper', ...ec }],
    });

    expect(bundle.keyIds).toEqual([]);
  });

  it('keeps only the public members of a key, so a published private member never makes a signing key', () => {
    const bundle = JwtBundle.parse(td, { keys: [{ use: 'jwt-svid', kid: 'k1', ...ec, d: 'c2VjcmV0' }] });

    expect(bundle.findAuthority('k1')).not.toHaveProperty('d');
  });

  it.each([
    ['a jwt-svid key without kid', () => ({ keys: [{ use: 'jwt-svid', ...ec }] }), 'jwt authority 0 must have a key id (kid)'],
    ['no keys member (go-spiffe: "no authorities found")', () => ({ spiffe_refresh_hint: 60, spiffe_sequence: 1 }), 'has no authorities'],
    ['a refresh hint that is not an integer', () => ({ keys: [], spiffe_refresh_hint: '300' }), 'spiffe_refresh_hint must be a non-negative integer'],
    ['a key that is not on its curve', () => ({ keys: [{ use: 'jwt-svid', kid: 'bad', ...ec, y: ec.x }] }), 'jwt authority "bad" is not a valid EC public key'],
    ['text that is not JSON', () => '{"keys": [', 'is not JSON'],
  ])('refuses %s', (_name, doc, message) => {
    expect(() => JwtBundle.parse(td, doc())).toThrow(expect.objectContaining({ code: 'JWT_BUNDLE_MALFORMED', message: expect.stringContaining(message) as string }));
  });

  it('accepts an empty key list: the trust domain revoked its keys', () => {
    expect(JwtBundle.parse(td, { keys: [] }).keyIds).toEqual([]);
  });
});

describe('JwtBundle.parse (JWKS of SPIRE\'s OIDC discovery provider)', () => {
  it('reads keys without use and with use "sig", and ignores encryption keys', () => {
    const bundle = JwtBundle.parse(
      td,
      { keys: [{ kid: 'a', alg: 'ES256', ...ec }, { kid: 'b', use: 'sig', alg: 'RS256', ...rsa }, { kid: 'c', use: 'enc', ...rsa }] },
      'jwks',
    );

    expect(bundle.keyIds).toEqual(['a', 'b']);
    expect(bundle.refreshHintSeconds).toBeUndefined();
  });

  it('does not count jwt-svid keys in a plain JWKS', () => {
    expect(JwtBundle.parse(td, { keys: [{ kid: 'a', use: 'jwt-svid', ...ec }] }, 'jwks').keyIds).toEqual([]);
  });
});

describe('JwtBundle.toSpiffeBundle', () => {
  it('writes a SPIFFE bundle that parses back to the same authorities', () => {
    const bundle = JwtBundle.parse(td, { spiffe_refresh_hint: 60, keys: [{ use: 'jwt-svid', kid: 'k1', ...ec }] });

    const again = JwtBundle.parse(td, JSON.stringify(bundle.toSpiffeBundle()));

    expect(again.keyIds).toEqual(['k1']);
    expect(again.findAuthority('k1')).toEqual(bundle.findAuthority('k1'));
    expect(again.refreshHintSeconds).toBe(60);
  });
});
