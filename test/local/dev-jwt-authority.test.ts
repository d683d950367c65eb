import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { describe, expect, it } from 'vitest';
import { JwtBundle } from '../../shared/spiffe/jwt-bundle.js';
import { JwtSvidValidator } from '../../shared/spiffe/jwt-svid.js';
import { parseTrustDomain } from '../../shared/spiffe/trust-domain.js';
import { DevCa } from './dev-ca.js';
import { DevJwtAuthority } from './dev-jwt-authority.js';

const td = parseTrustDomain('jia.app');

describe('DevJwtAuthority', () => {
  it('mints JWT-SVIDs shaped like SPIRE\'s: ES256, kid, typ JWT; aud as a list, exp, iat, sub', async () => {
    const authority = await (await DevCa.create('jia.app')).jwtAuthority();

    const token = await authority.mint({ sub: 'spiffe://jia.app/family-service', aud: 'spiffe://jia.app/payment-functions' });

    expect(decodeProtectedHeader(token)).toEqual({ alg: 'ES256', kid: authority.keyId, typ: 'JWT' });
    const claims = decodeJwt(token);
    expect(Object.keys(claims).sort()).toEqual(['aud', 'exp', 'iat', 'sub']);
    expect(claims.aud).toEqual(['spiffe://jia.app/payment-functions']);
    expect(claims.exp! - claims.iat!).toBe(300);
  });

  it.each(['ES256', 'ES384', 'RS256', 'PS256'] as const)('signs %s tokens that validate against its SPIFFE bundle and its OIDC JWKS', async (alg) => {
    const authority = await DevJwtAuthority.create('jia.app', alg);
    const token = await authority.mint({ sub: 'spiffe://jia.app/a', aud: 'x' });

    for (const bundle of [JwtBundle.parse(td, authority.spiffeBundle()), JwtBundle.parse(td, authority.oidcJwks({ setKeyUse: true }), 'jwks')]) {
      await expect(new JwtSvidValidator({ audience: 'x', bundles: bundle }).validate(token)).resolves.toMatchObject({ keyId: authority.keyId });
    }
  });

  it('writes its bundle and key, and loads back an authority whose tokens the written bundle accepts', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dev-jwt-'));
    try {
      const bundlePath = await (await DevJwtAuthority.create('jia.app')).save(dir);
      const loaded = await DevJwtAuthority.load(dir);
      const bundle = JwtBundle.parse(td, await readFile(bundlePath, 'utf8'));

      await expect(new JwtSvidValidator({ audience: 'x', bundles: bundle }).validate(await loaded.mint({ sub: 'spiffe://jia.app/a', aud: 'x' }))).resolves.toBeDefined();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
