import './reflect-metadata-shim.js'; // before @peculiar/x509
import * as x509 from '@peculiar/x509';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCertificatesPem } from '../../shared/spiffe/pem.js';
import { parseX509Svid } from '../../shared/spiffe/x509-svid.js';
import { DevCa, spireSecretBinary, spireSecretJson, writeSpiffeHelperFiles, type MintedSvid } from './dev-ca.js';

const ID = 'spiffe://jia.app/payment-functions';
const SPIRE_KEYS = ['spiffeID', 'x509SVID', 'x509SVIDKey', 'bundle'];
let ca: DevCa;
let svid: MintedSvid;
let dir: string;

beforeAll(async () => {
  ca = await DevCa.create('jia.app');
  svid = await ca.mintSvid(ID);
  dir = await mkdtemp(join(tmpdir(), 'dev-ca-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The extensions of a PEM certificate, decoded by @peculiar/x509 (node exposes few of them). */
function extensionsOf(pem: string) {
  const cert = new x509.X509Certificate(pem);
  const basic = cert.getExtension(x509.BasicConstraintsExtension)!;
  const keyUsage = cert.getExtension(x509.KeyUsagesExtension)!;
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension)!;
  return {
    basic: { ca: basic.ca, critical: basic.critical },
    keyUsage: { usages: keyUsage.usages, critical: keyUsage.critical },
    san: { critical: san.critical },
  };
}

describe('DevCa', () => {
  it('creates a root CA for its trust domain, shaped like SPIRE\'s', () => {
    // Act
    const [root] = parseCertificatesPem(ca.bundlePem, 'bundle');

    // Assess
    expect(ca.trustDomain).toBe('jia.app');
    expect(root!.ca).toBe(true);
    expect(root!.subjectAltName).toBe('URI:spiffe://jia.app');
    expect(root!.checkIssued(root!)).toBe(true);
    expect(root!.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
  });

  it('mints an svid whose leaf has SPIRE\'s extensions and a one-hour validity', () => {
    // Prepare
    const leaf = new X509Certificate(svid.certChainPem);
    const root = new X509Certificate(ca.bundlePem);

    // Assess
    expect(svid.spiffeId).toBe(ID);
    expect(leaf.subjectAltName).toBe(`URI:${ID}`);
    expect(leaf.ca).toBe(false);
    expect(leaf.toLegacyObject().ext_key_usage).toEqual(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
    expect(leaf.verify(root.publicKey)).toBe(true);
    expect(leaf.checkIssued(root)).toBe(true);
    expect(svid.serialNumber).toBe(leaf.serialNumber.toLowerCase());
    expect(svid.serialNumber).toMatch(/^[4-7][0-9a-f]{31}$/);
    expect(svid.notAfter.getTime()).toBe(leaf.validToDate.getTime());
    expect(leaf.validToDate.getTime() - Date.now()).toBeGreaterThan(59 * 60_000);
    expect(leaf.validToDate.getTime() - Date.now()).toBeLessThanOrEqual(60 * 60_000);
    expect(leaf.validFromDate.getTime()).toBeLessThan(Date.now());
  });

  it('sets the basic constraints, key usage and san criticality SPIRE\'s templates set', () => {
    const { KeyUsageFlags: F } = x509;

    const leaf = extensionsOf(svid.certChainPem);
    const root = extensionsOf(ca.bundlePem);

    expect(leaf).toEqual({
      basic: { ca: false, critical: true },
      keyUsage: { usages: F.digitalSignature | F.keyEncipherment | F.keyAgreement, critical: true },
      san: { critical: false },
    });
    expect(root).toEqual({
      basic: { ca: true, critical: true },
      keyUsage: { usages: F.keyCertSign | F.cRLSign, critical: true },
      san: { critical: false },
    });
  });

  it('mints a PKCS#8 P-256 key that matches the leaf', () => {
    const parsed = parseX509Svid(svid.certChainPem, svid.privateKeyPem);

    expect(svid.privateKeyPem.startsWith('-----BEGIN PRIVATE KEY-----\n')).toBe(true);
    expect(parsed.privateKey.asymmetricKeyType).toBe('ec');
    expect(parsed.id.toString()).toBe(ID);
  });

  it('mints fresh serial numbers and keys', async () => {
    const other = await ca.mintSvid(ID);

    expect(other.serialNumber).not.toBe(svid.serialNumber);
    expect(other.privateKeyPem).not.toBe(svid.privateKeyPem);
  });

  it('puts the intermediate after the leaf, without the root', async () => {
    const chained = await ca.mintSvid(ID, { viaIntermediate: true });

    const [leaf, intermediate, ...rest] = parseCertificatesPem(chained.certChainPem, 'chain');

    expect(rest).toHaveLength(0);
    expect(intermediate!.ca).toBe(true);
    expect(intermediate!.subjectAltName).toBe('URI:spiffe://jia.app');
    expect(leaf!.checkIssued(intermediate!) && leaf!.verify(intermediate!.publicKey)).toBe(true);
    expect(intermediate!.verify(new X509Certificate(ca.bundlePem).publicKey)).toBe(true);
  });

  it('writes the uri sans it is told to, none included', async () => {
    const [two, none] = await Promise.all([
      ca.mintSvid(ID, { uris: [ID, 'spiffe://jia.app/other'] }),
      ca.mintSvid(ID, { uris: [] }),
    ]);

    expect(new X509Certificate(two.certChainPem).subjectAltName).toBe(`URI:${ID}, URI:spiffe://jia.app/other`);
    expect(new X509Certificate(none.certChainPem).subjectAltName).toBeUndefined();
  });

  it('honours the given validity', async () => {
    const notBefore = new Date('2030-01-01T00:00:00Z');
    const notAfter = new Date('2030-01-02T00:00:00Z');

    const future = await ca.mintSvid(ID, { notBefore, notAfter });
    const leaf = new X509Certificate(future.certChainPem);

    expect(leaf.validFromDate).toEqual(notBefore);
    expect(leaf.validToDate).toEqual(notAfter);
    expect(future.notAfter).toEqual(notAfter);
  });
});

describe('writeSpiffeHelperFiles', () => {
  it('writes spiffe-helper\'s three files, the key readable by its owner only', async () => {
    // Act
    await writeSpiffeHelperFiles(dir, svid, ca.bundlePem);

    // Assess
    expect((await readdir(dir)).sort()).toEqual(['svid.pem', 'svid_bundle.pem', 'svid_key.pem']);
    expect(await readFile(join(dir, 'svid.pem'), 'utf8')).toBe(svid.certChainPem);
    expect(await readFile(join(dir, 'svid_key.pem'), 'utf8')).toBe(svid.privateKeyPem);
    expect(await readFile(join(dir, 'svid_bundle.pem'), 'utf8')).toBe(ca.bundlePem);
    expect((await stat(join(dir, 'svid_key.pem'))).mode & 0o777).toBe(0o600);
  });

  it('creates the directory when it is missing', async () => {
    const nested = join(dir, 'a', 'b');

    await writeSpiffeHelperFiles(nested, svid, ca.bundlePem);

    expect(await readFile(join(nested, 'svid.pem'), 'utf8')).toBe(svid.certChainPem);
  });
});

describe('spireSecretJson', () => {
  it('uses exactly SPIRE\'s keys and omits empty federated bundles', () => {
    const json = spireSecretJson(svid, ca.bundlePem);

    expect(Object.keys(JSON.parse(json))).toEqual(SPIRE_KEYS);
    expect(JSON.parse(json)).toEqual({
      spiffeID: ID,
      x509SVID: svid.certChainPem,
      x509SVIDKey: svid.privateKeyPem,
      bundle: ca.bundlePem,
    });
    expect(spireSecretJson(svid, ca.bundlePem, {})).toBe(json);
  });

  it('is compact JSON', () => {
    expect(spireSecretJson(svid, ca.bundlePem)).toMatch(/^\{"spiffeID":"spiffe:\/\/jia\.app\/payment-functions","x509SVID":"/);
  });

  it('keys federated bundles by the trust domain spiffe id', () => {
    const federated = { 'spiffe://partner.example': '-----BEGIN CERTIFICATE-----\n…' };

    const parsed = JSON.parse(spireSecretJson(svid, ca.bundlePem, federated));

    expect(Object.keys(parsed)).toEqual([...SPIRE_KEYS, 'federatedBundles']);
    expect(parsed.federatedBundles).toEqual(federated);
  });
});

describe('spireSecretBinary', () => {
  it('is the UTF-8 bytes of the JSON, as SecretBinary holds them', () => {
    const federated = { 'spiffe://partner.example': 'pem' };

    const bytes = spireSecretBinary(svid, ca.bundlePem, federated);

    expect(bytes).toBeInstanceOf(Uint8Array);
    expect(new TextDecoder().decode(bytes)).toBe(spireSecretJson(svid, ca.bundlePem, federated));
  });
});
