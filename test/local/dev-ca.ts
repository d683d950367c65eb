/**
 * A development SPIFFE CA: mints X.509-SVIDs shaped like SPIRE's (ECDSA P-256, URI SAN, leaf and CA
 * extensions as SPIRE's templates set them) for tests and the local mesh, and deliberately bad
 * ones for the X509-SVID spec's negative cases. Not for production: keys live in memory.
 *
 * The files and Secrets Manager payloads SPIRE and spiffe-helper produce live in
 * `./svid-outputs.ts` and are re-exported here.
 */
import './reflect-metadata-shim.js'; // must precede @peculiar/x509 (tsyringe checks at import)
import * as x509 from '@peculiar/x509';
import { KeyObject, X509Certificate, randomBytes, webcrypto } from 'node:crypto';

import { DevJwtAuthority, type DevJwtAlgorithm } from './dev-jwt-authority.js';

export { spireSecretBinary, spireSecretJson, writeSpiffeHelperFiles } from './svid-outputs.js';

x509.cryptoProvider.set(globalThis.crypto);

type CryptoKeyPair = webcrypto.CryptoKeyPair;
type CryptoKey = webcrypto.CryptoKey;

/** ECDSA P-256 with SHA-256, SPIRE's default key type for CAs and X509-SVIDs. */
const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

export type KeyUsageName = 'digitalSignature' | 'keyEncipherment' | 'keyAgreement' | 'keyCertSign' | 'cRLSign';

/** An X509-SVID as minted: PEM chain (leaf first) and PKCS#8 key. */
export interface MintedSvid {
  spiffeId: string;
  /** Leaf first, then intermediates; never the root. */
  certChainPem: string;
  /** PKCS#8 PEM. */
  privateKeyPem: string;
  /** Lowercase hex without separators or leading zeros (node prints it uppercase). */
  serialNumber: string;
  notAfter: Date;
}

export interface MintOptions {
  notBefore?: Date;
  notAfter?: Date;
  /** URI SANs to write instead of `[spiffeId]`; `[]` writes no SAN extension at all. */
  uris?: string[];
  /** Marks the leaf as a CA (an invalid SVID). */
  isCa?: boolean;
  /** Leaf key usages; `[]` omits the extension. */
  keyUsage?: KeyUsageName[];
  /** Signs the leaf with a fresh intermediate CA, which is included in the chain. */
  viaIntermediate?: boolean;
  /** The intermediate's key usages; `[]` omits the extension. */
  intermediateKeyUsage?: KeyUsageName[];
  /** The intermediate's CA flag; `false` mints an invalid signing certificate. */
  intermediateIsCa?: boolean;
}

/** SPIRE's X509-SVID template (`pkg/server/ca/templates.go`). */
const mintDefaults = {
  keyUsage: ['digitalSignature', 'keyEncipherment', 'keyAgreement'],
  intermediateKeyUsage: ['keyCertSign', 'cRLSign'],
  intermediateIsCa: true,
  isCa: false,
  viaIntermediate: false,
} as const satisfies MintOptions;

interface Authority {
  cert: x509.X509Certificate;
  keys: CryptoKeyPair;
}

function keyUsageFlags(usages: readonly KeyUsageName[]): x509.KeyUsageFlags {
  return usages.reduce<number>((flags, usage) => flags | x509.KeyUsageFlags[usage], 0);
}

/** A positive 128-bit serial whose first byte is 0x40..0x7f: fixed length, no DER padding byte. */
function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x3f) | 0x40;
  return bytes.toString('hex');
}

/** A distinguished name with a unique serialNumber attribute, as SPIRE gives its CAs. */
function caName(organizationalUnit?: string): x509.JsonName {
  return [
    { '2.5.4.6': ['US'] },
    { '2.5.4.10': ['SPIFFE'] },
    ...(organizationalUnit ? [{ '2.5.4.11': [organizationalUnit] }] : []),
    { '2.5.4.5': [randomSerial()] },
  ];
}

function generateKeys(): Promise<CryptoKeyPair> {
  return webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']);
}

function privateKeyPem(key: CryptoKey): string {
  return KeyObject.from(key).export({ type: 'pkcs8', format: 'pem' }) as string;
}

/** Extensions every CA cert (root or intermediate) of trust domain `td` carries. */
async function caExtensions(
  trustDomain: string,
  keys: CryptoKeyPair,
  isCa: boolean,
  keyUsage: readonly KeyUsageName[],
): Promise<x509.Extension[]> {
  return [
    new x509.BasicConstraintsExtension(isCa, undefined, true),
    ...(keyUsage.length ? [new x509.KeyUsagesExtension(keyUsageFlags(keyUsage), true)] : []),
    new x509.SubjectAlternativeNameExtension([{ type: 'url', value: `spiffe://${trustDomain}` }], false),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
  ];
}

/** An in-memory SPIFFE CA for one trust domain. */
export class DevCa {
  readonly trustDomain: string;
  /** The root certificate PEM: what goes in the trust domain's bundle. */
  readonly bundlePem: string;
  readonly #root: Authority;
  readonly #jwtAuthorities = new Map<DevJwtAlgorithm, Promise<DevJwtAuthority>>();

  private constructor(trustDomain: string, root: Authority) {
    this.trustDomain = trustDomain;
    this.#root = root;
    this.bundlePem = root.cert.toString('pem') + '\n';
  }

  /**
   * Creates a self-signed root for `trustDomain` (bare, e.g. `jia.app`), valid from a minute ago
   * for a day unless `opts` say otherwise (pass past dates for an expired CA).
   */
  static async create(trustDomain: string, opts: { notBefore?: Date; notAfter?: Date } = {}): Promise<DevCa> {
    const now = Date.now();
    const keys = await generateKeys();
    const name = caName();
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: randomSerial(),
      subject: name,
      issuer: name,
      notBefore: opts.notBefore ?? new Date(now - MINUTE),
      notAfter: opts.notAfter ?? new Date(now + 24 * HOUR),
      signingAlgorithm: ALGORITHM,
      publicKey: keys.publicKey,
      signingKey: keys.privateKey,
      extensions: await caExtensions(trustDomain, keys, true, ['keyCertSign', 'cRLSign']),
    });
    return new DevCa(trustDomain, { cert, keys });
  }

  /**
   * Mints an X509-SVID for `spiffeId`, valid from a minute ago for an hour unless `opts` say
   * otherwise. The ID is not validated (nor required to be in this trust domain), so invalid
   * SVIDs can be minted on purpose.
   */
  async mintSvid(spiffeId: string, opts: MintOptions = {}): Promise<MintedSvid> {
    const options = { ...mintDefaults, ...opts };
    const now = Date.now();
    const notBefore = options.notBefore ?? new Date(now - MINUTE);
    const notAfter = options.notAfter ?? new Date(now + HOUR);

    const issuer = options.viaIntermediate ? await this.#mintIntermediate(options) : this.#root;
    const keys = await generateKeys();
    const uris = options.uris ?? [spiffeId];
    const leaf = await x509.X509CertificateGenerator.create({
      serialNumber: randomSerial(),
      subject: 'C=US, O=SPIRE',
      issuer: issuer.cert.subjectName,
      notBefore,
      notAfter,
      signingAlgorithm: ALGORITHM,
      publicKey: keys.publicKey,
      signingKey: issuer.keys.privateKey,
      extensions: [
        new x509.BasicConstraintsExtension(options.isCa, undefined, true),
        ...(options.keyUsage.length
          ? [new x509.KeyUsagesExtension(keyUsageFlags(options.keyUsage), true)]
          : []),
        new x509.ExtendedKeyUsageExtension(
          [x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth],
          false,
        ),
        // Go marks the SAN critical only when the subject is empty; SPIRE's leaves have a subject.
        ...(uris.length
          ? [new x509.SubjectAlternativeNameExtension(uris.map((value) => ({ type: 'url' as const, value })), false)]
          : []),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
        await x509.AuthorityKeyIdentifierExtension.create(issuer.keys.publicKey),
      ],
    });

    const parsed = new X509Certificate(Buffer.from(leaf.rawData));
    const chain = issuer === this.#root ? [leaf] : [leaf, issuer.cert];
    return {
      spiffeId,
      certChainPem: chain.map((c) => c.toString('pem') + '\n').join(''),
      privateKeyPem: privateKeyPem(keys.privateKey),
      serialNumber: parsed.serialNumber.toLowerCase(),
      // The certificate's own (whole-second) time, so it equals what a parser of the chain reads.
      notAfter: parsed.validToDate,
    };
  }

  /**
   * This trust domain's JWT authority (created on first use): it mints JWT-SVIDs and publishes
   * the JWT bundle (see {@link DevJwtAuthority}).
   */
  jwtAuthority(alg: DevJwtAlgorithm = 'ES256'): Promise<DevJwtAuthority> {
    let authority = this.#jwtAuthorities.get(alg);
    if (authority === undefined) {
      authority = DevJwtAuthority.create(this.trustDomain, alg);
      this.#jwtAuthorities.set(alg, authority);
    }
    return authority;
  }

  /**
   * A Web PKI server certificate (DNS or IP SANs, no SPIFFE ID) signed by this CA's root, for
   * loopback `https_web` endpoints that trust the root as an extra CA.
   */
  async mintWebCertificate(hosts: { ips?: string[]; dnsNames?: string[] }): Promise<{ certChainPem: string; privateKeyPem: string }> {
    const keys = await generateKeys();
    const now = Date.now();
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: randomSerial(),
      subject: `CN=${hosts.dnsNames?.[0] ?? hosts.ips?.[0] ?? 'localhost'}`,
      issuer: this.#root.cert.subjectName,
      notBefore: new Date(now - MINUTE),
      notAfter: new Date(now + HOUR),
      signingAlgorithm: ALGORITHM,
      publicKey: keys.publicKey,
      signingKey: this.#root.keys.privateKey,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false),
        new x509.SubjectAlternativeNameExtension([
          ...(hosts.ips ?? []).map((value) => ({ type: 'ip' as const, value })),
          ...(hosts.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })),
        ]),
        await x509.AuthorityKeyIdentifierExtension.create(this.#root.keys.publicKey),
      ],
    });
    return { certChainPem: cert.toString('pem') + '\n', privateKeyPem: privateKeyPem(keys.privateKey) };
  }

  /** A fresh intermediate under the root, like a SPIRE server's CA under an upstream authority. */
  async #mintIntermediate(options: Pick<Required<MintOptions>, 'intermediateIsCa' | 'intermediateKeyUsage'>) {
    const keys = await generateKeys();
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: randomSerial(),
      subject: caName('intermediate'),
      issuer: this.#root.cert.subjectName,
      notBefore: this.#root.cert.notBefore,
      notAfter: this.#root.cert.notAfter,
      signingAlgorithm: ALGORITHM,
      publicKey: keys.publicKey,
      signingKey: this.#root.keys.privateKey,
      extensions: [
        ...(await caExtensions(this.trustDomain, keys, options.intermediateIsCa, options.intermediateKeyUsage)),
        await x509.AuthorityKeyIdentifierExtension.create(this.#root.keys.publicKey),
      ],
    });
    return { cert, keys } satisfies Authority;
  }
}
