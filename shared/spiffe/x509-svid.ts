import { createPrivateKey, type KeyObject, type X509Certificate } from 'node:crypto';
import { SpiffeIdError, SvidError } from '../errors.js';
import { parseCertificatesPem, toPem } from './pem.js';
import { parseSpiffeId, type SpiffeId } from './spiffe-id.js';
import { KeyUsageFlags, svidExtensions } from './x509-extensions.js';

/** An X.509-SVID with its private key: what a workload presents in mTLS. */
export interface X509Svid {
  readonly id: SpiffeId;
  /** Leaf first, then intermediates. */
  readonly certificates: readonly X509Certificate[];
  readonly privateKey: KeyObject;
  /** The chain re-encoded as PEM, leaf first. */
  readonly certChainPem: string;
  /** The key re-encoded as PKCS#8 PEM. */
  readonly privateKeyPem: string;
  /** The leaf's validity. */
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** The leaf's serial number, lowercase hex. */
  readonly serialNumber: string;
}

/** How errors name a certificate: its serial, never its contents. */
export function describeCert(role: string, cert: X509Certificate): string {
  return `${role} certificate (serial ${cert.serialNumber.toLowerCase()})`;
}

/**
 * Reads the SPIFFE ID of a leaf X.509-SVID: its one URI SAN (X509-SVID §2), a valid SPIFFE ID with
 * a non-root path (§4: a leaf names a workload, not a trust domain).
 *
 * @throws {SvidError} `SVID_NO_URI_SAN`, `SVID_MULTIPLE_URI_SANS`, `SVID_INVALID_SPIFFE_ID`
 *   (cause: the {@link SpiffeIdError}), `SVID_ROOT_PATH`, or `SVID_MALFORMED_CERTIFICATE`.
 */
export function leafSpiffeId(leaf: X509Certificate): SpiffeId {
  const what = describeCert('leaf', leaf);
  const { uris } = svidExtensions(leaf, what);
  if (uris.length === 0) {
    throw new SvidError('SVID_NO_URI_SAN', `${what} must have a uri san holding its spiffe id, it has none`);
  }
  if (uris.length > 1) {
    throw new SvidError(
      'SVID_MULTIPLE_URI_SANS',
      `${what} must have exactly one uri san, it has ${uris.length}: ${uris.map((u) => JSON.stringify(u)).join(', ')}`,
    );
  }
  const uri = uris[0]!;
  let id: SpiffeId;
  try {
    id = parseSpiffeId(uri);
  } catch (error) {
    if (!(error instanceof SpiffeIdError)) throw error;
    throw new SvidError('SVID_INVALID_SPIFFE_ID', `${what} uri san is not a valid spiffe id: ${error.message}`, {
      cause: error,
    });
  }
  if (!id.hasPath) {
    throw new SvidError('SVID_ROOT_PATH', `${what} spiffe id must have a non-root path: ${id.toString()}`);
  }
  return id;
}

/**
 * Checks a leaf X.509-SVID against X509-SVID §4.1–4.3 and returns its SPIFFE ID: not a CA, key
 * usage with `digitalSignature` and without `keyCertSign` or `cRLSign`.
 *
 * @throws {SvidError} any code of {@link leafSpiffeId}, `SVID_LEAF_IS_CA`,
 *   `SVID_LEAF_MISSING_DIGITAL_SIGNATURE`, `SVID_LEAF_HAS_KEY_CERT_SIGN` or `SVID_LEAF_HAS_CRL_SIGN`.
 */
export function checkLeaf(leaf: X509Certificate): SpiffeId {
  const id = leafSpiffeId(leaf);
  const what = `${describeCert('leaf', leaf)} of ${id.toString()}`;
  const { isCa, keyUsage = 0 } = svidExtensions(leaf, what);
  if (isCa) throw new SvidError('SVID_LEAF_IS_CA', `${what} must not have the ca flag set`);
  if (!(keyUsage & KeyUsageFlags.digitalSignature)) {
    throw new SvidError('SVID_LEAF_MISSING_DIGITAL_SIGNATURE', `${what} must have 'digitalSignature' set as key usage`);
  }
  if (keyUsage & KeyUsageFlags.keyCertSign) {
    throw new SvidError('SVID_LEAF_HAS_KEY_CERT_SIGN', `${what} must not have 'keyCertSign' set as key usage`);
  }
  if (keyUsage & KeyUsageFlags.cRLSign) {
    throw new SvidError('SVID_LEAF_HAS_CRL_SIGN', `${what} must not have 'cRLSign' set as key usage`);
  }
  return id;
}

/**
 * Checks a signing (CA) certificate of an X.509-SVID chain against X509-SVID §4.1 and §4.3: the CA
 * flag set and `keyCertSign` key usage.
 *
 * @throws {SvidError} `SVID_SIGNING_CERT_NOT_CA`, `SVID_SIGNING_CERT_MISSING_KEY_CERT_SIGN` or
 *   `SVID_MALFORMED_CERTIFICATE`.
 */
export function checkSigningCert(cert: X509Certificate): void {
  const what = describeCert('signing', cert);
  const { isCa, keyUsage = 0 } = svidExtensions(cert, what);
  if (!isCa) throw new SvidError('SVID_SIGNING_CERT_NOT_CA', `${what} must have the ca flag set`);
  if (!(keyUsage & KeyUsageFlags.keyCertSign)) {
    throw new SvidError(
      'SVID_SIGNING_CERT_MISSING_KEY_CERT_SIGN',
      `${what} must have 'keyCertSign' set as key usage`,
    );
  }
}

/**
 * Parses an X.509-SVID from its PEM chain (leaf first) and PEM private key, enforcing the
 * X509-SVID rules on the leaf and every intermediate and that the key belongs to the leaf. Does
 * not verify the chain against a bundle; see `verifyX509Svid`.
 *
 * @throws {SvidError} `SVID_MALFORMED_PEM`, any code of {@link checkLeaf} or
 *   {@link checkSigningCert}, `SVID_BAD_PRIVATE_KEY` or `SVID_KEY_MISMATCH`. Key material is never
 *   part of a message.
 */
export function parseX509Svid(certChainPem: string, privateKeyPem: string): X509Svid {
  const certificates = parseCertificatesPem(certChainPem, 'x509-svid certificate chain');
  const leaf = certificates[0]!; // parseCertificatesPem never returns an empty list
  const id = checkLeaf(leaf);
  for (const intermediate of certificates.slice(1)) checkSigningCert(intermediate);

  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key: privateKeyPem, format: 'pem' });
  } catch {
    // The cause is dropped on purpose: decoder errors may quote parts of the input.
    throw new SvidError('SVID_BAD_PRIVATE_KEY', `x509-svid private key of ${id.toString()} is not a pem private key`);
  }
  if (!leaf.checkPrivateKey(privateKey)) {
    throw new SvidError(
      'SVID_KEY_MISMATCH',
      `x509-svid private key does not match the public key of the ${describeCert('leaf', leaf)} of ${id.toString()}`,
    );
  }

  return {
    id,
    certificates,
    privateKey,
    certChainPem: toPem(certificates),
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    notBefore: leaf.validFromDate,
    notAfter: leaf.validToDate,
    serialNumber: leaf.serialNumber.toLowerCase(),
  };
}
