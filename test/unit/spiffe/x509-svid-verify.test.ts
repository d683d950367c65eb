import { X509Certificate } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { SvidError } from '../../../shared/errors.js';
import { parseCertificatesPem } from '../../../shared/spiffe/pem.js';
import { parseTrustDomain } from '../../../shared/spiffe/trust-domain.js';
import { X509Bundle, X509BundleSet } from '../../../shared/spiffe/x509-bundle.js';
import { verifyX509Svid } from '../../../shared/spiffe/x509-svid-verify.js';
import { DevCa, type MintOptions } from '../../local/dev-ca.js';

const ID = 'spiffe://jia.app/contact-service';
const PARTNER_ID = 'spiffe://partner.example/ledger';
const HOUR = 3_600_000;

let ca: DevCa;
let rogue: DevCa; // another CA claiming jia.app, not in any bundle
let partner: DevCa;
let own: X509BundleSet;
let ownAndPartner: X509BundleSet;

beforeAll(async () => {
  [ca, rogue, partner] = await Promise.all([
    DevCa.create('jia.app'),
    DevCa.create('jia.app'),
    DevCa.create('partner.example'),
  ]);
  own = new X509BundleSet([bundleOf(ca)]);
  ownAndPartner = new X509BundleSet([bundleOf(ca), bundleOf(partner)]);
});

function bundleOf(...cas: DevCa[]): X509Bundle {
  return X509Bundle.parse(parseTrustDomain(cas[0]!.trustDomain), cas.map((c) => c.bundlePem).join(''));
}

async function chainFrom(issuer: DevCa, spiffeId: string, opts: MintOptions = {}): Promise<X509Certificate[]> {
  return parseCertificatesPem((await issuer.mintSvid(spiffeId, opts)).certChainPem, 'test chain');
}

function svidErrorOf(fn: () => unknown): SvidError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(SvidError);
    return error as SvidError;
  }
  throw new Error('expected an SvidError');
}

describe('verifyX509Svid', () => {
  it('verifies a leaf signed by a root of its trust domain bundle', async () => {
    // Prepare
    const chain = await chainFrom(ca, ID);

    // Act
    const { id, verifiedChain } = verifyX509Svid(chain, own);

    // Assess
    expect(id.toString()).toBe(ID);
    expect(verifiedChain).toHaveLength(2);
    expect(verifiedChain[0]).toBe(chain[0]);
    expect(verifiedChain[1]).toBe(own.get(parseTrustDomain('jia.app'))!.authorities[0]);
  });

  it('verifies a leaf through an intermediate the peer presents', async () => {
    const chain = await chainFrom(ca, ID, { viaIntermediate: true });

    const { id, verifiedChain } = verifyX509Svid(chain, own);

    expect(id.toString()).toBe(ID);
    expect(verifiedChain.map((c) => c.serialNumber)).toEqual([
      chain[0]!.serialNumber,
      chain[1]!.serialNumber,
      new X509Certificate(ca.bundlePem).serialNumber,
    ]);
  });

  it('accepts a chain that also carries the root itself', async () => {
    const chain = [...(await chainFrom(ca, ID)), new X509Certificate(ca.bundlePem)];

    expect(verifyX509Svid(chain, own).verifiedChain).toHaveLength(2);
  });

  it('verifies leaves of either root while a bundle holds an old and a new root', async () => {
    const rotating = new X509BundleSet([bundleOf(ca, rogue)]);
    const [fromOld, fromNew] = await Promise.all([chainFrom(ca, ID), chainFrom(rogue, ID)]);

    expect(verifyX509Svid(fromOld, rotating).id.toString()).toBe(ID);
    expect(verifyX509Svid(fromNew, rotating).id.toString()).toBe(ID);
  });

  it('rejects an empty chain', () => {
    expect(svidErrorOf(() => verifyX509Svid([], own)).code).toBe('SVID_EMPTY_CHAIN');
  });

  it('applies the leaf rules before trust', async () => {
    const chain = await chainFrom(ca, ID, { isCa: true });

    expect(svidErrorOf(() => verifyX509Svid(chain, own)).code).toBe('SVID_LEAF_IS_CA');
  });

  it('rejects an intermediate that is not a CA even though it signed the leaf', async () => {
    const chain = await chainFrom(ca, ID, { viaIntermediate: true, intermediateIsCa: false });

    expect(svidErrorOf(() => verifyX509Svid(chain, own)).code).toBe('SVID_SIGNING_CERT_NOT_CA');
  });

  it('rejects an intermediate without keyCertSign', async () => {
    const chain = await chainFrom(ca, ID, { viaIntermediate: true, intermediateKeyUsage: ['cRLSign'] });

    expect(svidErrorOf(() => verifyX509Svid(chain, own)).code).toBe('SVID_SIGNING_CERT_MISSING_KEY_CERT_SIGN');
  });

  it('rejects a leaf signed by a CA that is not in the bundle of its trust domain', async () => {
    // Prepare
    const chain = await chainFrom(rogue, ID);

    // Act
    const error = svidErrorOf(() => verifyX509Svid(chain, own));

    // Assess
    expect(error.code).toBe('SVID_UNTRUSTED');
    expect(error.message).toContain(ID);
    expect(error.message).toContain(chain[0]!.serialNumber.toLowerCase());
  });

  it('rejects a leaf whose intermediate is missing from the chain', async () => {
    const [leaf] = await chainFrom(ca, ID, { viaIntermediate: true });

    expect(svidErrorOf(() => verifyX509Svid([leaf!], own)).code).toBe('SVID_UNTRUSTED');
  });

  it('rejects a leaf whose trust domain has no bundle in the set', async () => {
    const chain = await chainFrom(partner, PARTNER_ID);

    const error = svidErrorOf(() => verifyX509Svid(chain, own));

    expect(error.code).toBe('SVID_NO_BUNDLE_FOR_TRUST_DOMAIN');
    expect(error.message).toContain('partner.example');
  });

  it('rejects an expired leaf', async () => {
    const chain = await chainFrom(ca, ID, {
      notBefore: new Date(Date.now() - 2 * HOUR),
      notAfter: new Date(Date.now() - HOUR),
    });

    const error = svidErrorOf(() => verifyX509Svid(chain, own));

    expect(error.code).toBe('SVID_EXPIRED');
    expect(error.message).toContain(ID);
    expect(error.message).toContain('leaf certificate');
  });

  it('rejects a leaf that is not yet valid', async () => {
    const chain = await chainFrom(ca, ID, {
      notBefore: new Date(Date.now() + HOUR),
      notAfter: new Date(Date.now() + 2 * HOUR),
    });

    expect(svidErrorOf(() => verifyX509Svid(chain, own)).code).toBe('SVID_NOT_YET_VALID');
  });

  it('checks validity at the given time', async () => {
    const chain = await chainFrom(ca, ID);

    expect(verifyX509Svid(chain, own, { at: new Date(Date.now() + HOUR / 2) }).id.toString()).toBe(ID);
    expect(svidErrorOf(() => verifyX509Svid(chain, own, { at: new Date(Date.now() + 2 * HOUR) })).code).toBe(
      'SVID_EXPIRED',
    );
    expect(svidErrorOf(() => verifyX509Svid(chain, own, { at: new Date(Date.now() - HOUR) })).code).toBe(
      'SVID_NOT_YET_VALID',
    );
  });

  it('rejects a valid leaf whose root has expired', async () => {
    // Prepare
    const expiredCa = await DevCa.create('old.example', {
      notBefore: new Date(Date.now() - 48 * HOUR),
      notAfter: new Date(Date.now() - 24 * HOUR),
    });
    const chain = await chainFrom(expiredCa, 'spiffe://old.example/svc');

    // Act
    const error = svidErrorOf(() => verifyX509Svid(chain, new X509BundleSet([bundleOf(expiredCa)])));

    // Assess
    expect(error.code).toBe('SVID_EXPIRED');
    expect(error.message).toContain('authority certificate');
  });

  describe('with federated bundles', () => {
    it('verifies a leaf of the federated trust domain against that domain bundle', async () => {
      const chain = await chainFrom(partner, PARTNER_ID);

      const { id, verifiedChain } = verifyX509Svid(chain, ownAndPartner);

      expect(id.toString()).toBe(PARTNER_ID);
      expect(verifiedChain[1]!.serialNumber).toBe(new X509Certificate(partner.bundlePem).serialNumber);
    });

    it('still verifies a leaf of the own trust domain', async () => {
      const chain = await chainFrom(ca, ID, { viaIntermediate: true });

      expect(verifyX509Svid(chain, ownAndPartner).id.toString()).toBe(ID);
    });

    it('rejects a leaf claiming the federated trust domain but signed by the own CA', async () => {
      // Prepare: the own CA is trusted, but only for its own trust domain.
      const chain = await chainFrom(ca, PARTNER_ID);

      // Act
      const error = svidErrorOf(() => verifyX509Svid(chain, ownAndPartner));

      // Assess
      expect(error.code).toBe('SVID_UNTRUSTED');
      expect(error.message).toContain('partner.example');
    });

    it('rejects a leaf claiming the own trust domain but signed by the federated CA', async () => {
      const chain = await chainFrom(partner, ID);

      expect(svidErrorOf(() => verifyX509Svid(chain, ownAndPartner)).code).toBe('SVID_UNTRUSTED');
    });
  });
});
