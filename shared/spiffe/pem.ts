import { X509Certificate } from 'node:crypto';
import { SvidError } from '../errors.js';

// A PEM block (RFC 7468): label on BEGIN and END, base64 body. Text between blocks is ignored,
// as openssl and Go's pem.Decode do (e.g. `Bag Attributes` lines), but a BEGIN without its END is not.
const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END ([A-Z0-9 ]+)-----/g;
const BEGIN = /-----BEGIN /g;
const BASE64_BODY = /^[A-Za-z0-9+/\s]*={0,2}\s*$/;

function malformed(what: string, rule: string, cause?: unknown): never {
  throw new SvidError('SVID_MALFORMED_PEM', `${what} ${rule}`, cause === undefined ? undefined : { cause });
}

/**
 * Parses every `CERTIFICATE` block in `pem`, in order. `what` names the input in errors
 * (e.g. `x509-svid certificate chain`); the input itself is never echoed, since a caller may
 * have passed key material by mistake.
 *
 * @throws {SvidError} `SVID_MALFORMED_PEM` when there is no block, a block is not a certificate or
 *   is unterminated, or its body is not exactly one DER certificate.
 */
export function parseCertificatesPem(pem: string, what: string): X509Certificate[] {
  const certificates: X509Certificate[] = [];
  let blocks = 0;
  for (const [, label, body = '', endLabel] of pem.matchAll(BLOCK)) {
    blocks++;
    if (label !== endLabel) malformed(what, `has a pem block whose begin and end labels differ (block ${blocks})`);
    if (label !== 'CERTIFICATE') {
      malformed(what, `must hold only CERTIFICATE pem blocks, block ${blocks} is ${JSON.stringify(label)}`);
    }
    if (!BASE64_BODY.test(body)) malformed(what, `has a pem block that is not base64 (block ${blocks})`);
    const der = Buffer.from(body, 'base64');
    let certificate: X509Certificate;
    try {
      certificate = new X509Certificate(der);
    } catch (error) {
      malformed(what, `has a pem block that is not an x.509 certificate (block ${blocks})`, error);
    }
    // OpenSSL silently ignores bytes after the certificate's DER.
    if (certificate.raw.length !== der.length) {
      malformed(what, `has trailing data after the certificate (block ${blocks})`);
    }
    certificates.push(certificate);
  }
  if (blocks === 0) malformed(what, 'holds no pem block');
  if ((pem.match(BEGIN)?.length ?? 0) !== blocks) malformed(what, 'has an unterminated pem block');
  return certificates;
}

/** Encodes `certs` as concatenated PEM `CERTIFICATE` blocks, each ending in a newline. */
export function toPem(certs: Iterable<X509Certificate>): string {
  let pem = '';
  for (const cert of certs) {
    const body = cert.raw.toString('base64').replace(/.{64}(?=.)/g, '$&\n');
    pem += `-----BEGIN CERTIFICATE-----\n${body}\n-----END CERTIFICATE-----\n`;
  }
  return pem;
}
