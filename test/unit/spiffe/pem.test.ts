import { X509Certificate } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { SvidError } from '../../../shared/errors.js';
import { parseCertificatesPem, toPem } from '../../../shared/spiffe/pem.js';
import { DevCa, type MintedSvid } from '../../local/dev-ca.js';

let ca: DevCa;
let svid: MintedSvid;

beforeAll(async () => {
  ca = await DevCa.create('jia.app');
  svid = await ca.mintSvid('spiffe://jia.app/svc', { viaIntermediate: true });
});

function malformedPemError(pem: string): SvidError {
  try {
    parseCertificatesPem(pem, 'test chain');
  } catch (error) {
    expect(error).toBeInstanceOf(SvidError);
    expect((error as SvidError).code).toBe('SVID_MALFORMED_PEM');
    expect((error as SvidError).message).toContain('test chain');
    return error as SvidError;
  }
  throw new Error('expected SVID_MALFORMED_PEM');
}

/** The base64 body of a single pem block. */
function bodyOf(pem: string): string {
  return pem.split('\n').slice(1, -2).join('\n');
}

describe('parseCertificatesPem', () => {
  it('parses every certificate in order', () => {
    const certs = parseCertificatesPem(svid.certChainPem, 'chain');

    expect(certs).toHaveLength(2);
    expect(certs[0]!.serialNumber.toLowerCase()).toBe(svid.serialNumber);
    expect(certs[1]!.ca).toBe(true);
  });

  it('ignores text between blocks, as openssl writes it', () => {
    const certs = parseCertificatesPem(`Bag Attributes\n  friendlyName: svid\n${ca.bundlePem}\n\n`, 'bundle');

    expect(certs).toHaveLength(1);
  });

  it('rejects input without a pem block', () => {
    expect(malformedPemError('').message).toContain('no pem block');
    malformedPemError('just text');
  });

  it('rejects a private key block without echoing it', () => {
    const error = malformedPemError(svid.privateKeyPem);

    expect(error.message).toContain('"PRIVATE KEY"');
    expect(error.message).not.toContain(bodyOf(svid.privateKeyPem).slice(0, 20));
  });

  it('rejects a certificate followed by an unterminated block', () => {
    malformedPemError(`${ca.bundlePem}-----BEGIN CERTIFICATE-----\nMIIB\n`);
  });

  it('rejects a block whose body is not base64', () => {
    malformedPemError('-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n');
  });

  it('rejects a block whose body is not a certificate', () => {
    const error = malformedPemError('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');

    expect(error.cause).toBeInstanceOf(Error);
  });

  it('rejects trailing bytes after the certificate, which openssl would drop', () => {
    const der = Buffer.concat([new X509Certificate(ca.bundlePem).raw, Buffer.from([0, 0, 0])]);

    const error = malformedPemError(`-----BEGIN CERTIFICATE-----\n${der.toString('base64')}\n-----END CERTIFICATE-----\n`);

    expect(error.message).toContain('trailing data');
  });
});

describe('toPem', () => {
  it('encodes certificates as openssl does, 64 characters a line', () => {
    const certs = parseCertificatesPem(svid.certChainPem, 'chain');

    expect(toPem(certs)).toBe(svid.certChainPem);
    expect(toPem(certs)).toBe(certs.map((c) => c.toString()).join(''));
  });

  it('encodes nothing as an empty string', () => {
    expect(toPem([])).toBe('');
  });
});
