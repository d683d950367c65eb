import { status } from '@grpc/grpc-js';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseCertificatesPem } from '../../../shared/spiffe/pem.js';
import { parseTrustDomain } from '../../../shared/spiffe/trust-domain.js';
import { X509Bundle, X509BundleSet } from '../../../shared/spiffe/x509-bundle.js';
import { SpiffeIdAuthorizer } from '../../../shared/transport/spiffe-authorizer.js';
import { DevCa, type MintOptions } from '../../local/dev-ca.js';

const FUNCTIONS = 'spiffe://jia.app/payment-functions';
const PARTNER = 'spiffe://partner.example/billing';
let ca: DevCa;
let partner: DevCa;
let rogue: DevCa;
let bundles: X509BundleSet;

beforeAll(async () => {
  [ca, partner, rogue] = await Promise.all([DevCa.create('jia.app'), DevCa.create('partner.example'), DevCa.create('jia.app')]);
  bundles = new X509BundleSet([
    X509Bundle.parse(parseTrustDomain('jia.app'), ca.bundlePem),
    X509Bundle.parse(parseTrustDomain('partner.example'), partner.bundlePem + rogue.bundlePem),
  ]);
});

async function chainOf(issuer: DevCa, id: string, opts: MintOptions = {}) {
  return parseCertificatesPem((await issuer.mintSvid(id, opts)).certChainPem, 'test chain');
}

function authorizer(...allowed: string[]) {
  const authz = new SpiffeIdAuthorizer(bundles);
  for (const id of allowed) authz.addAllowedSpiffeId(id);
  return authz;
}

describe('SpiffeIdAuthorizer', () => {
  it('admits an allowed client and reports its SPIFFE ID and leaf serial', async () => {
    const chain = await chainOf(ca, FUNCTIONS, { viaIntermediate: true });

    const decision = authorizer(FUNCTIONS).authorize(chain);

    expect(decision).toMatchObject({ allowed: true, peer: { serialNumber: chain[0]!.serialNumber.toLowerCase() } });
    expect(decision.allowed && decision.peer.spiffeId.toString()).toBe(FUNCTIONS);
  });

  it('denies a client that is not on the allow-list with the Go servers\' exact details', async () => {
    const chain = await chainOf(ca, 'spiffe://jia.app/intruder');

    const decision = authorizer(FUNCTIONS).authorize(chain);

    expect(decision).toMatchObject({
      allowed: false,
      code: status.PERMISSION_DENIED,
      details: 'spiffe ID not allowed: spiffe://jia.app/intruder',
      error: { code: 'SPIFFE_ID_NOT_ALLOWED' },
    });
  });

  it('admits nobody with an empty allow-list', async () => {
    expect(authorizer().authorize(await chainOf(ca, FUNCTIONS))).toMatchObject({ allowed: false, code: status.PERMISSION_DENIED });
  });

  it('admits an allowed client of a federated trust domain', async () => {
    expect(authorizer(PARTNER).authorize(await chainOf(partner, PARTNER))).toMatchObject({ allowed: true });
  });

  it.each([
    ['another CA claiming jia.app', () => chainOf(rogue, FUNCTIONS), 'SVID_UNTRUSTED'],
    ['an expired leaf', () => chainOf(ca, FUNCTIONS, { notBefore: new Date(Date.now() - 7_200_000), notAfter: new Date(Date.now() - 3_600_000) }), 'SVID_EXPIRED'],
    ['two URI SANs', () => chainOf(ca, FUNCTIONS, { uris: [FUNCTIONS, 'spiffe://jia.app/x'] }), 'SVID_MULTIPLE_URI_SANS'],
    ['no URI SAN', () => chainOf(ca, FUNCTIONS, { uris: [] }), 'SVID_NO_URI_SAN'],
    ['a CA leaf', () => chainOf(ca, FUNCTIONS, { isCa: true }), 'SVID_LEAF_IS_CA'],
    ['a trust domain without a bundle', () => chainOf(partner, 'spiffe://elsewhere.example/x'), 'SVID_NO_BUNDLE_FOR_TRUST_DOMAIN'],
  ])('answers UNAUTHENTICATED for %s, even when allow-listed', async (_what, chain, code) => {
    const decision = authorizer(FUNCTIONS, 'spiffe://elsewhere.example/x').authorize(await chain());

    expect(decision).toMatchObject({ allowed: false, code: status.UNAUTHENTICATED, error: { code } });
    expect(!decision.allowed && decision.details).toMatch(/^client x509-svid rejected: /);
  });

  it('answers UNAUTHENTICATED when the client presented no certificate', () => {
    expect(authorizer(FUNCTIONS).authorize([])).toMatchObject({ allowed: false, code: status.UNAUTHENTICATED, error: { code: 'SVID_EMPTY_CHAIN' } });
  });

  it('keeps a verification valid until the first certificate of its path expires, for the same bundles only', async () => {
    const clock = { now: Date.now() };
    const notAfter = new Date(Math.floor(clock.now / 1000) * 1000 + 60_000); // certificates keep whole seconds
    const authz = new SpiffeIdAuthorizer(bundles, { now: () => clock.now }).addAllowedSpiffeId(FUNCTIONS);
    const verification = authz.verify(await chainOf(ca, FUNCTIONS, { notAfter }));

    expect(verification).toMatchObject({ verified: true, validUntil: notAfter.getTime() });
    expect(authz.stillValid(verification)).toBe(true);
    clock.now = notAfter.getTime() + 1;
    expect(authz.stillValid(verification)).toBe(false);
    expect(new SpiffeIdAuthorizer(new X509BundleSet(bundles.bundles)).stillValid(verification)).toBe(false);
  });

  it('applies allow-list changes to verifications made before them', async () => {
    const authz = authorizer(FUNCTIONS);
    const verification = authz.verify(await chainOf(ca, FUNCTIONS));

    authz.removeAllowedSpiffeId(FUNCTIONS);

    expect(authz.admit(verification)).toMatchObject({ allowed: false, code: status.PERMISSION_DENIED });
  });

  it('reads the bundles from a provider on each verification', async () => {
    let current = new X509BundleSet([]);
    const authz = new SpiffeIdAuthorizer(() => current).addAllowedSpiffeId(FUNCTIONS);
    const chain = await chainOf(ca, FUNCTIONS);
    expect(authz.authorize(chain)).toMatchObject({ allowed: false, error: { code: 'SVID_NO_BUNDLE_FOR_TRUST_DOMAIN' } });

    current = bundles;

    expect(authz.authorize(chain)).toMatchObject({ allowed: true });
  });

  it('refuses an allow-list entry that is not a SPIFFE ID', () => {
    expect(() => authorizer().addAllowedSpiffeId('https://jia.app/x')).toThrow(expect.objectContaining({ code: 'SPIFFE_ID_WRONG_SCHEME' }));
  });

  it('tells handlers who called only for clients it admitted', async () => {
    const authz = authorizer(FUNCTIONS);
    const admitted = await chainOf(ca, FUNCTIONS);
    const denied = await chainOf(ca, 'spiffe://jia.app/intruder');
    authz.authorize(admitted);
    authz.authorize(denied);
    const callFrom = (chain: typeof admitted) => ({ getAuthContext: () => ({ sslPeerCertificate: { fingerprint256: chain[0]!.fingerprint256 } as never }) });

    expect(authz.peerIdentity(callFrom(admitted)).spiffeId.toString()).toBe(FUNCTIONS);
    expect(() => authz.peerIdentity(callFrom(denied))).toThrow(expect.objectContaining({ code: 'SVID_UNTRUSTED' }));
    expect(() => authz.peerIdentity({ getAuthContext: () => ({}) })).toThrow(expect.objectContaining({ code: 'SVID_UNTRUSTED' }));
  });
});
