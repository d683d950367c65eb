import { X509Certificate } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { SvidError } from '../../../shared/errors.js';
import { parseTrustDomain } from '../../../shared/spiffe/trust-domain.js';
import { X509Bundle, X509BundleSet } from '../../../shared/spiffe/x509-bundle.js';
import { DevCa } from '../../local/dev-ca.js';

const JIA = parseTrustDomain('jia.app');
const PARTNER = parseTrustDomain('partner.example');
let ca: DevCa;
let next: DevCa;
let partner: DevCa;

beforeAll(async () => {
  [ca, next, partner] = await Promise.all([
    DevCa.create('jia.app'),
    DevCa.create('jia.app'),
    DevCa.create('partner.example'),
  ]);
});

describe('X509Bundle', () => {
  it('parses every root of a bundle in order', () => {
    // Prepare
    const pem = ca.bundlePem + next.bundlePem;

    // Act
    const bundle = X509Bundle.parse(JIA, pem);

    // Assess
    expect(bundle.trustDomain).toBe(JIA);
    expect(bundle.authorities.map((a) => a.serialNumber)).toEqual([
      new X509Certificate(ca.bundlePem).serialNumber,
      new X509Certificate(next.bundlePem).serialNumber,
    ]);
  });

  it('writes back the same pem it parsed', () => {
    const pem = ca.bundlePem + next.bundlePem;

    expect(X509Bundle.parse(JIA, pem).toPem()).toBe(pem);
  });

  it('rejects a bundle that is not pem, naming its trust domain', () => {
    let error: unknown;
    try {
      X509Bundle.parse(PARTNER, 'not a bundle');
    } catch (e) {
      error = e;
    }

    expect(error).toBeInstanceOf(SvidError);
    expect((error as SvidError).code).toBe('SVID_MALFORMED_PEM');
    expect((error as SvidError).message).toContain('partner.example');
  });
});

describe('X509BundleSet', () => {
  it('finds the bundle of each trust domain it holds', () => {
    const own = X509Bundle.parse(JIA, ca.bundlePem);
    const federated = X509Bundle.parse(PARTNER, partner.bundlePem);

    const set = new X509BundleSet([own, federated]);

    expect(set.get(parseTrustDomain('jia.app'))).toBe(own);
    expect(set.get(PARTNER)).toBe(federated);
    expect(set.get(parseTrustDomain('other.example'))).toBeUndefined();
    expect(set.bundles).toEqual([own, federated]);
  });

  it('keeps the later of two bundles for one trust domain', () => {
    const older = X509Bundle.parse(JIA, ca.bundlePem);
    const newer = X509Bundle.parse(JIA, next.bundlePem);

    const set = new X509BundleSet([older, newer]);

    expect(set.get(JIA)).toBe(newer);
    expect(set.bundles).toEqual([newer]);
  });

  it('joins every authority of every bundle for a tls ca option', () => {
    const set = new X509BundleSet([
      X509Bundle.parse(JIA, ca.bundlePem + next.bundlePem),
      X509Bundle.parse(PARTNER, partner.bundlePem),
    ]);

    expect(set.authoritiesPem()).toBe(ca.bundlePem + next.bundlePem + partner.bundlePem);
  });
});
