import { beforeAll, describe, expect, it } from 'vitest';
import { IdentityError, SvidError } from '../../../shared/errors.js';
import { svidFromSpireSecret } from '../../../shared/identity/spire-secret.js';
import { parseTrustDomain } from '../../../shared/spiffe/trust-domain.js';
import { verifyX509Svid } from '../../../shared/spiffe/x509-svid-verify.js';
import { DevCa, spireSecretBinary, spireSecretJson, type MintedSvid } from '../../local/dev-ca.js';

const ME = 'spiffe://jia.app/payment-functions';
let ca: DevCa;
let partner: DevCa;
let svid: MintedSvid;

beforeAll(async () => {
  [ca, partner] = await Promise.all([DevCa.create('jia.app'), DevCa.create('partner.example')]);
  svid = await ca.mintSvid(ME);
});

function errorOf(fn: () => unknown): IdentityError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(IdentityError);
    return error as IdentityError;
  }
  throw new Error('expected an IdentityError');
}

describe('svidFromSpireSecret', () => {
  it('reads the SecretBinary JSON SPIRE writes', () => {
    const material = svidFromSpireSecret({ SecretBinary: spireSecretBinary(svid, ca.bundlePem) }, 'svid');

    expect(material.svid.id.toString()).toBe(ME);
    expect(material.svid.serialNumber).toBe(svid.serialNumber);
    expect(material.ownBundle.trustDomain.name).toBe('jia.app');
    expect(material.bundles.bundles).toHaveLength(1);
  });

  it('accepts the same JSON in SecretString', () => {
    const material = svidFromSpireSecret({ SecretString: spireSecretJson(svid, ca.bundlePem) }, 'svid');

    expect(material.svid.id.toString()).toBe(ME);
  });

  it('keeps federated bundles so peers of a federated trust domain verify', async () => {
    const peer = await partner.mintSvid('spiffe://partner.example/ledger');
    const secret = spireSecretBinary(svid, ca.bundlePem, { 'spiffe://partner.example': partner.bundlePem });

    const material = svidFromSpireSecret({ SecretBinary: secret }, 'svid');
    const peerChain = svidFromSpireSecret(
      { SecretBinary: spireSecretBinary(peer, partner.bundlePem) },
      'peer',
    ).svid.certificates;

    expect(material.bundles.get(parseTrustDomain('partner.example'))).toBeDefined();
    expect(verifyX509Svid(peerChain, material.bundles).id.toString()).toBe('spiffe://partner.example/ledger');
  });

  it('rejects a secret with neither SecretBinary nor SecretString', () => {
    expect(errorOf(() => svidFromSpireSecret({}, 'svid')).code).toBe('IDENTITY_SECRET_EMPTY');
  });

  it('rejects text that is not JSON without echoing it', () => {
    const error = errorOf(() => svidFromSpireSecret({ SecretString: svid.privateKeyPem }, 'svid'));

    expect(error.code).toBe('IDENTITY_SECRET_MALFORMED');
    expect(error.message).not.toContain('PRIVATE KEY');
  });

  it('names the missing key, using SPIRE\'s exact key names', () => {
    const json = JSON.parse(spireSecretJson(svid, ca.bundlePem)) as Record<string, unknown>;
    delete json['x509SVIDKey'];

    const error = errorOf(() => svidFromSpireSecret({ SecretString: JSON.stringify(json) }, 'svid'));

    expect(error.code).toBe('IDENTITY_SECRET_MALFORMED');
    expect(error.message).toContain('x509SVIDKey');
  });

  it('rejects the keys as SPIRE\'s docs spell them', () => {
    const docsSpelling = JSON.stringify({
      spiffeId: ME,
      x509Svid: svid.certChainPem,
      x509SvidKey: svid.privateKeyPem,
      bundle: ca.bundlePem,
    });

    expect(errorOf(() => svidFromSpireSecret({ SecretString: docsSpelling }, 'svid')).code).toBe('IDENTITY_SECRET_MALFORMED');
  });

  it('rejects a spiffeID that differs from the certificate', () => {
    const json = JSON.parse(spireSecretJson(svid, ca.bundlePem)) as Record<string, unknown>;
    json['spiffeID'] = 'spiffe://jia.app/someone-else';

    const error = errorOf(() => svidFromSpireSecret({ SecretString: JSON.stringify(json) }, 'svid'));

    expect(error.code).toBe('IDENTITY_SPIFFE_ID_MISMATCH');
    expect(error.message).toContain('spiffe://jia.app/someone-else');
  });

  it('rejects a key that does not belong to the leaf', async () => {
    const other = await ca.mintSvid(ME);
    const json = JSON.parse(spireSecretJson(svid, ca.bundlePem)) as Record<string, unknown>;
    json['x509SVIDKey'] = other.privateKeyPem;

    const error = errorOf(() => svidFromSpireSecret({ SecretString: JSON.stringify(json) }, 'svid'));

    expect(error.code).toBe('IDENTITY_INVALID_SVID');
    expect((error.cause as SvidError).code).toBe('SVID_KEY_MISMATCH');
    expect(error.message).not.toContain('PRIVATE KEY');
  });

  it('rejects an SVID that does not chain to its own bundle', () => {
    const error = errorOf(() => svidFromSpireSecret({ SecretBinary: spireSecretBinary(svid, partner.bundlePem) }, 'svid'));

    expect(error.code).toBe('IDENTITY_INVALID_SVID');
    expect((error.cause as SvidError).code).toBe('SVID_UNTRUSTED');
  });

  it('rejects an expired SVID with IDENTITY_EXPIRED', async () => {
    const expired = await ca.mintSvid(ME, {
      notBefore: new Date(Date.now() - 2 * 3_600_000),
      notAfter: new Date(Date.now() - 3_600_000),
    });

    expect(errorOf(() => svidFromSpireSecret({ SecretBinary: spireSecretBinary(expired, ca.bundlePem) }, 'svid')).code).toBe(
      'IDENTITY_EXPIRED',
    );
  });

  it('rejects a leaf that breaks the X509-SVID rules', async () => {
    const caLeaf = await ca.mintSvid(ME, { isCa: true });

    const error = errorOf(() => svidFromSpireSecret({ SecretBinary: spireSecretBinary(caLeaf, ca.bundlePem) }, 'svid'));

    expect(error.code).toBe('IDENTITY_INVALID_SVID');
    expect((error.cause as SvidError).code).toBe('SVID_LEAF_IS_CA');
  });
});
