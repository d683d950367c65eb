import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkCaller, INVALID_TOKEN_CHALLENGE } from '../../../../functions/get-user-info/caller-check.js';
import { JwtSvidAuthenticator } from '../../../../shared/authentication/jwt-svid-authenticator.js';
import { loadJwtSvidConfig } from '../../../../shared/config/jwt-svid-config.js';
import { X509BundleSet } from '../../../../shared/spiffe/x509-bundle.js';
import { DevJwtAuthority } from '../../../local/dev-jwt-authority.js';

const AUDIENCE = 'spiffe://jia.app/payment-functions';
let dir: string;
let authority: DevJwtAuthority;
let bundlePath: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'caller-check-'));
  authority = await DevJwtAuthority.create('jia.app');
  bundlePath = await authority.save(dir);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function authenticator(bundleFile = bundlePath): JwtSvidAuthenticator {
  const config = loadJwtSvidConfig({
    SERVICE_MESH_SPIFFE_ID: AUDIENCE,
    JWT_SVID_AUDIENCE: AUDIENCE,
    JWT_SVID_ALLOWED_IDS: 'spiffe://jia.app/family-service',
    JWT_SVID_BUNDLE_FILE: bundleFile,
  })!;
  return new JwtSvidAuthenticator({ config, x509Bundles: async () => new X509BundleSet([]) });
}

const request = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

describe('checkCaller', () => {
  it('allows a caller on the allow-list with a valid JWT-SVID', async () => {
    const check = await checkCaller(request(await authority.mint({ sub: 'spiffe://jia.app/family-service', aud: AUDIENCE })), authenticator());

    expect(check.result).toBe('allowed');
    expect(check.svid?.id.toString()).toBe('spiffe://jia.app/family-service');
  });

  it('answers 401 with the invalid_token challenge and the code, for a request without a token', async () => {
    const check = await checkCaller({ headers: {} }, authenticator());

    expect(check.result).toBe('invalid');
    if (check.result === 'allowed') return;
    expect(check.answer.statusCode).toBe(401);
    expect(check.answer.headers?.['www-authenticate']).toBe(INVALID_TOKEN_CHALLENGE);
    expect(JSON.parse(check.answer.body)).toEqual({ error: { code: 'AUTH_NO_BEARER_TOKEN', message: expect.any(String) as string } });
  });

  it('answers 403 to a valid token of a caller not on the allow-list', async () => {
    const check = await checkCaller(request(await authority.mint({ sub: 'spiffe://jia.app/other', aud: AUDIENCE })), authenticator());

    expect(check.result).toBe('denied');
    if (check.result === 'allowed') return;
    expect(check.answer.statusCode).toBe(403);
    expect(check.svid?.id.toString()).toBe('spiffe://jia.app/other');
  });

  it('answers 503 with Retry-After when the bundle cannot be read, naming the code but not the path', async () => {
    const check = await checkCaller(request(await authority.mint({ sub: 'spiffe://jia.app/family-service', aud: AUDIENCE })), authenticator(join(dir, 'missing.json')));

    expect(check.result).toBe('unavailable');
    if (check.result === 'allowed') return;
    expect(check.answer.statusCode).toBe(503);
    expect(check.answer.headers?.['retry-after']).toBe('1');
    expect(JSON.parse(check.answer.body).error.code).toBe('JWT_BUNDLE_UNREADABLE');
    expect(check.answer.body).not.toContain(dir);
  });
});
