import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpsBundleFetcher } from '../../../shared/bundles/https-bundle-fetcher.js';
import { JwtBundleError } from '../../../shared/spiffe/jwt-svid-error.js';
import { parseSpiffeId } from '../../../shared/spiffe/spiffe-id.js';
import { parseTrustDomain } from '../../../shared/spiffe/trust-domain.js';
import { X509Bundle, X509BundleSet } from '../../../shared/spiffe/x509-bundle.js';
import { DevCa } from '../../local/dev-ca.js';
import type { DevJwtAuthority } from '../../local/dev-jwt-authority.js';
import { startJwtBundleServer, type JwtBundleServer } from '../../local/jwt-bundle-server.js';

const td = parseTrustDomain('jia.app');
const SPIRE_SERVER_ID = 'spiffe://jia.app/spire/server';

let ca: DevCa;
let foreignCa: DevCa;
let authority: DevJwtAuthority;
let spiffeEndpoint: JwtBundleServer;
let foreignEndpoint: JwtBundleServer;
let oidcEndpoint: JwtBundleServer;
let x509Bundles: X509BundleSet;

beforeAll(async () => {
  [ca, foreignCa] = await Promise.all([DevCa.create('jia.app'), DevCa.create('jia.app')]);
  authority = await ca.jwtAuthority();
  const [serverSvid, foreignSvid, web] = await Promise.all([
    ca.mintSvid(SPIRE_SERVER_ID),
    foreignCa.mintSvid(SPIRE_SERVER_ID),
    ca.mintWebCertificate({ ips: ['127.0.0.1'] }),
  ]);
  [spiffeEndpoint, foreignEndpoint, oidcEndpoint] = await Promise.all([
    startJwtBundleServer({ ...serverSvid, document: () => authority.spiffeBundle({ refreshHintSeconds: 120, sequence: 7 }) }),
    startJwtBundleServer({ ...foreignSvid, document: () => authority.spiffeBundle() }),
    startJwtBundleServer({ ...web, path: '/keys', document: () => authority.oidcJwks() }),
  ]);
  x509Bundles = new X509BundleSet([X509Bundle.parse(td, ca.bundlePem)]);
});
afterAll(async () => {
  await Promise.all([spiffeEndpoint.close(), foreignEndpoint.close(), oidcEndpoint.close()]);
});

const spiffeAuth = (id = SPIRE_SERVER_ID) => ({ id: parseSpiffeId(id), x509Bundles: async () => x509Bundles });
const fetchWith = (endpoint: Parameters<typeof httpsBundleFetcher>[1]) => httpsBundleFetcher(td, endpoint)(new AbortController().signal);
const failureOf = (promise: Promise<unknown>) => promise.then(() => undefined, (e: unknown) => e as JwtBundleError);

describe('httpsBundleFetcher', () => {
  it('fetches a SPIFFE bundle from an https_spiffe endpoint whose X.509-SVID verifies against our bundle', async () => {
    const bundle = await fetchWith({ url: new URL(spiffeEndpoint.url), format: 'spiffe', spiffe: spiffeAuth() });

    expect(bundle.keyIds).toEqual([authority.keyId]);
    expect(bundle.refreshHintSeconds).toBe(120);
    expect(bundle.sequence).toBe(7);
  });

  it('refuses an https_spiffe endpoint presenting another SPIFFE ID', async () => {
    const error = await failureOf(fetchWith({ url: new URL(spiffeEndpoint.url), format: 'spiffe', spiffe: spiffeAuth('spiffe://jia.app/impostor') }));

    expect(error).toBeInstanceOf(JwtBundleError);
    expect(error?.code).toBe('JWT_BUNDLE_ENDPOINT_NOT_AUTHORIZED');
    expect(error?.message).toContain('spiffe://jia.app/impostor');
  });

  it('refuses an https_spiffe endpoint whose SVID another CA issued', async () => {
    const error = await failureOf(fetchWith({ url: new URL(foreignEndpoint.url), format: 'spiffe', spiffe: spiffeAuth() }));

    expect(error).toBeInstanceOf(JwtBundleError);
    expect(['JWT_BUNDLE_FETCH_FAILED', 'JWT_BUNDLE_ENDPOINT_NOT_AUTHORIZED']).toContain(error?.code);
  });

  it('fetches the OIDC discovery provider\'s JWKS over https_web', async () => {
    const bundle = await fetchWith({ url: new URL(oidcEndpoint.url), format: 'jwks', ca: ca.bundlePem });

    expect(bundle.keyIds).toEqual([authority.keyId]);
  });

  it('refuses an https_web endpoint whose certificate no trusted root issued', async () => {
    const error = await failureOf(fetchWith({ url: new URL(oidcEndpoint.url), format: 'jwks' }));

    expect(error?.code).toBe('JWT_BUNDLE_FETCH_FAILED');
  });

  it('fails with the status when the endpoint does not answer 200', async () => {
    spiffeEndpoint.failWith(503);
    const error = await failureOf(fetchWith({ url: new URL(spiffeEndpoint.url), format: 'spiffe', spiffe: spiffeAuth() }));
    spiffeEndpoint.failWith(undefined);

    expect(error?.code).toBe('JWT_BUNDLE_FETCH_FAILED');
    expect(error?.message).toContain('status 503');
  });

  it('gives up when the signal aborts', async () => {
    spiffeEndpoint.delay(2_000);
    const controller = new AbortController();
    const fetching = httpsBundleFetcher(td, { url: new URL(spiffeEndpoint.url), format: 'spiffe', spiffe: spiffeAuth() })(controller.signal);
    setTimeout(() => controller.abort(new JwtBundleError('JWT_BUNDLE_TIMEOUT', 'out of time')), 50);
    const error = await failureOf(fetching);
    spiffeEndpoint.delay(0);

    expect(error?.code).toBe('JWT_BUNDLE_TIMEOUT');
  });

  it('refuses a plain http url', () => {
    expect(() => httpsBundleFetcher(td, { url: new URL('http://127.0.0.1/bundle'), format: 'spiffe' })).toThrow(JwtBundleError);
  });
});
