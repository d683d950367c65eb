import '../../local/reflect-metadata-shim.js'; // before @peculiar/x509
import * as x509 from '@peculiar/x509';
import { X509Certificate, webcrypto } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { SpiffeIdError, SvidError, type SvidErrorCode } from '../../../shared/errors.js';
import { parseCertificatesPem } from '../../../shared/spiffe/pem.js';
import {
  checkLeaf,
  checkSigningCert,
  leafSpiffeId,
  parseX509Svid,
} from '../../../shared/spiffe/x509-svid.js';
import { DevCa, type MintedSvid, type MintOptions } from '../../local/dev-ca.js';

const ID = 'spiffe://jia.app/payment-functions';
let ca: DevCa;
let good: MintedSvid;
let viaIntermediate: MintedSvid;

beforeAll(async () => {
  ca = await DevCa.create('jia.app');
  [good, viaIntermediate] = await Promise.all([ca.mintSvid(ID), ca.mintSvid(ID, { viaIntermediate: true })]);
});

function svidErrorOf(fn: () => unknown): SvidError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(SvidError);
    return error as SvidError;
  }
  throw new Error('expected an SvidError');
}

async function mintedChain(spiffeId: string, opts: MintOptions): Promise<X509Certificate[]> {
  const svid = await ca.mintSvid(spiffeId, opts);
  return parseCertificatesPem(svid.certChainPem, 'test chain');
}

describe('parseX509Svid', () => {
  it('parses a SPIRE-shaped svid into its id, chain, key and leaf validity', () => {
    // Prepare
    const leaf = new X509Certificate(good.certChainPem);

    // Act
    const svid = parseX509Svid(good.certChainPem, good.privateKeyPem);

    // Assess
    expect(svid.id.toString()).toBe(ID);
    expect(svid.certificates).toHaveLength(1);
    expect(svid.serialNumber).toBe(good.serialNumber);
    expect(svid.serialNumber).toMatch(/^[0-9a-f]+$/);
    expect(svid.notAfter.getTime()).toBe(good.notAfter.getTime());
    expect(svid.notBefore.getTime()).toBe(leaf.validFromDate.getTime());
    expect(svid.privateKey.type).toBe('private');
    expect(svid.privateKeyPem).toContain('-----BEGIN PRIVATE KEY-----');
    expect(svid.certChainPem).toBe(good.certChainPem);
  });

  it('keeps intermediates after the leaf', () => {
    const svid = parseX509Svid(viaIntermediate.certChainPem, viaIntermediate.privateKeyPem);

    expect(svid.certificates).toHaveLength(2);
    expect(svid.certificates[1]!.ca).toBe(true);
    expect(svid.certChainPem).toBe(viaIntermediate.certChainPem);
  });

  it('rejects a private key that belongs to another svid', async () => {
    const other = await ca.mintSvid(ID);

    const error = svidErrorOf(() => parseX509Svid(good.certChainPem, other.privateKeyPem));

    expect(error.code).toBe('SVID_KEY_MISMATCH');
    expect(error.message).toContain(ID);
  });

  it('rejects a private key that does not parse, without echoing it', () => {
    const garbage = '-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWtleS1tYXRlcmlhbA==\n-----END PRIVATE KEY-----\n';

    const error = svidErrorOf(() => parseX509Svid(good.certChainPem, garbage));

    expect(error.code).toBe('SVID_BAD_PRIVATE_KEY');
    expect(error.message).not.toContain('c2VjcmV0');
    expect(error.cause).toBeUndefined();
  });

  it('rejects a chain that is not pem, without echoing it', () => {
    const error = svidErrorOf(() => parseX509Svid(good.privateKeyPem, good.privateKeyPem));

    expect(error.code).toBe('SVID_MALFORMED_PEM');
    expect(error.message).toContain('x509-svid certificate chain');
    expect(error.message).not.toContain(good.privateKeyPem.split('\n')[1]!);
  });

  it('rejects an intermediate that is not a CA', async () => {
    const bad = await ca.mintSvid(ID, { viaIntermediate: true, intermediateIsCa: false });

    expect(svidErrorOf(() => parseX509Svid(bad.certChainPem, bad.privateKeyPem)).code).toBe(
      'SVID_SIGNING_CERT_NOT_CA',
    );
  });

  it('rejects a leaf that breaks the leaf rules', async () => {
    const bad = await ca.mintSvid(ID, { isCa: true });

    expect(svidErrorOf(() => parseX509Svid(bad.certChainPem, bad.privateKeyPem)).code).toBe('SVID_LEAF_IS_CA');
  });
});

describe('leafSpiffeId', () => {
  it('reads the spiffe id from the one uri san', () => {
    expect(leafSpiffeId(new X509Certificate(good.certChainPem)).toString()).toBe(ID);
  });

  it('rejects a leaf without a uri san', async () => {
    const [leaf] = await mintedChain(ID, { uris: [] });

    expect(svidErrorOf(() => leafSpiffeId(leaf!)).code).toBe('SVID_NO_URI_SAN');
  });

  it('rejects a leaf with two uri sans, naming both', async () => {
    const [leaf] = await mintedChain(ID, { uris: [ID, 'spiffe://jia.app/other'] });

    const error = svidErrorOf(() => leafSpiffeId(leaf!));

    expect(error.code).toBe('SVID_MULTIPLE_URI_SANS');
    expect(error.message).toContain('spiffe://jia.app/other');
  });

  it('rejects a uri san that is not a spiffe id, with the parse error as cause', async () => {
    const [leaf] = await mintedChain(ID, { uris: ['https://jia.app/payment-functions'] });

    const error = svidErrorOf(() => leafSpiffeId(leaf!));

    expect(error.code).toBe('SVID_INVALID_SPIFFE_ID');
    expect(error.cause).toBeInstanceOf(SpiffeIdError);
    expect((error.cause as SpiffeIdError).code).toBe('SPIFFE_ID_WRONG_SCHEME');
  });

  it('rejects the spiffe id of the trust domain itself', async () => {
    const [leaf] = await mintedChain('spiffe://jia.app', {});

    const error = svidErrorOf(() => leafSpiffeId(leaf!));

    expect(error.code).toBe('SVID_ROOT_PATH');
    expect(error.message).toContain('spiffe://jia.app');
  });
});

describe('checkLeaf', () => {
  const cases: { name: string; opts: MintOptions; code: SvidErrorCode }[] = [
    { name: 'a leaf marked as CA', opts: { isCa: true }, code: 'SVID_LEAF_IS_CA' },
    {
      name: 'a leaf without digitalSignature',
      opts: { keyUsage: ['keyEncipherment', 'keyAgreement'] },
      code: 'SVID_LEAF_MISSING_DIGITAL_SIGNATURE',
    },
    {
      name: 'a leaf without a key usage extension',
      opts: { keyUsage: [] },
      code: 'SVID_LEAF_MISSING_DIGITAL_SIGNATURE',
    },
    {
      name: 'a leaf with keyCertSign',
      opts: { keyUsage: ['digitalSignature', 'keyCertSign'] },
      code: 'SVID_LEAF_HAS_KEY_CERT_SIGN',
    },
    {
      name: 'a leaf with cRLSign',
      opts: { keyUsage: ['digitalSignature', 'cRLSign'] },
      code: 'SVID_LEAF_HAS_CRL_SIGN',
    },
  ];

  it.each(cases)('rejects $name with $code', async ({ opts, code }) => {
    // Prepare
    const [leaf] = await mintedChain(ID, opts);

    // Act
    const error = svidErrorOf(() => checkLeaf(leaf!));

    // Assess
    expect(error.code).toBe(code);
    expect(error.message).toContain(ID);
    expect(error.message).toContain(leaf!.serialNumber.toLowerCase());
  });

  it('accepts a SPIRE-shaped leaf', () => {
    expect(checkLeaf(new X509Certificate(good.certChainPem)).toString()).toBe(ID);
  });
});

describe('checkSigningCert', () => {
  it('accepts the root and a SPIRE-shaped intermediate', () => {
    const [, intermediate] = parseCertificatesPem(viaIntermediate.certChainPem, 'chain');

    expect(() => checkSigningCert(new X509Certificate(ca.bundlePem))).not.toThrow();
    expect(() => checkSigningCert(intermediate!)).not.toThrow();
  });

  it('rejects a signing certificate that is not a CA', async () => {
    const [, intermediate] = await mintedChain(ID, { viaIntermediate: true, intermediateIsCa: false });

    expect(svidErrorOf(() => checkSigningCert(intermediate!)).code).toBe('SVID_SIGNING_CERT_NOT_CA');
  });

  it('rejects a signing certificate without keyCertSign', async () => {
    const [, intermediate] = await mintedChain(ID, { viaIntermediate: true, intermediateKeyUsage: ['cRLSign'] });

    const error = svidErrorOf(() => checkSigningCert(intermediate!));

    expect(error.code).toBe('SVID_SIGNING_CERT_MISSING_KEY_CERT_SIGN');
    expect(error.message).toContain(intermediate!.serialNumber.toLowerCase());
  });

  it('rejects a signing certificate without a key usage extension', async () => {
    const [, intermediate] = await mintedChain(ID, { viaIntermediate: true, intermediateKeyUsage: [] });

    expect(svidErrorOf(() => checkSigningCert(intermediate!)).code).toBe('SVID_SIGNING_CERT_MISSING_KEY_CERT_SIGN');
  });

  it('rejects an svid leaf used as a signing certificate', () => {
    expect(svidErrorOf(() => checkSigningCert(new X509Certificate(good.certChainPem))).code).toBe(
      'SVID_SIGNING_CERT_NOT_CA',
    );
  });
});

describe('extension decoding', () => {
  // Certificates no CA should issue, built directly: the dev CA only mints well-formed extensions.
  async function selfSignedWith(extensions: x509.Extension[]): Promise<X509Certificate> {
    const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
    const keys = await webcrypto.subtle.generateKey(algorithm, false, ['sign', 'verify']);
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      name: 'O=SPIRE',
      keys,
      signingAlgorithm: algorithm,
      extensions,
    });
    return new X509Certificate(Buffer.from(cert.rawData));
  }

  it('rejects a certificate with two subject alternative name extensions', async () => {
    // Prepare: node's own subjectAltName shows only the first of the two.
    const cert = await selfSignedWith([
      new x509.SubjectAlternativeNameExtension([{ type: 'url', value: ID }]),
      new x509.SubjectAlternativeNameExtension([{ type: 'url', value: 'spiffe://jia.app/other' }]),
    ]);

    // Act
    const error = svidErrorOf(() => leafSpiffeId(cert));

    // Assess
    expect(error.code).toBe('SVID_MALFORMED_CERTIFICATE');
    expect(error.message).toContain('2.5.29.17');
  });

  it('rejects a certificate whose key usage does not decode', async () => {
    const cert = await selfSignedWith([
      new x509.SubjectAlternativeNameExtension([{ type: 'url', value: ID }]),
      new x509.Extension('2.5.29.15', true, new Uint8Array([0x30, 0x00])),
    ]);

    const error = svidErrorOf(() => checkLeaf(cert));

    expect(error.code).toBe('SVID_MALFORMED_CERTIFICATE');
    expect(error.cause).toBeInstanceOf(Error);
  });
});
