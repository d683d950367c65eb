import type { X509Certificate } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import {
  BasicConstraints,
  KeyUsage,
  KeyUsageFlags,
  SubjectAlternativeName,
  id_ce_basicConstraints,
  id_ce_keyUsage,
  id_ce_subjectAltName,
} from '@peculiar/asn1-x509';
import { SvidError } from '../errors.js';

/** The extensions the X509-SVID rules look at, decoded from a certificate's DER. */
export interface SvidExtensions {
  /** Basic constraints `cA`; false when the extension is absent (RFC 5280 §4.2.1.9). */
  readonly isCa: boolean;
  /** Key usage bits ({@link KeyUsageFlags}); `undefined` when the extension is absent. */
  readonly keyUsage: number | undefined;
  /** Every URI in the subject alternative name, in order. */
  readonly uris: readonly string[];
}

export { KeyUsageFlags };

// DER encodings of the OIDs' contents (after tag and length): 2.5.29.19, 2.5.29.15, 2.5.29.17.
const WANTED = new Map<string, string>([
  ['551d13', id_ce_basicConstraints],
  ['551d0f', id_ce_keyUsage],
  ['551d11', id_ce_subjectAltName],
]);

/**
 * Decoded extensions per certificate object: bundle authorities are checked on every handshake,
 * and node's `X509Certificate` exposes neither key usage bits nor an unescaped SAN.
 */
const cache = new WeakMap<X509Certificate, SvidExtensions>();

/**
 * Decodes `cert`'s basic constraints, key usage and URI SANs, once per certificate object.
 *
 * Only the three extensions are decoded with asn1-schema: decoding the whole certificate with it
 * costs ~0.6 ms, ten times a signature check, so a minimal DER walk locates them first.
 *
 * @throws {SvidError} `SVID_MALFORMED_CERTIFICATE` when an extension cannot be decoded or appears
 *   twice (RFC 5280 §4.2), naming `what`.
 */
export function svidExtensions(cert: X509Certificate, what: string): SvidExtensions {
  let decoded = cache.get(cert);
  if (!decoded) {
    decoded = decode(cert, what);
    cache.set(cert, decoded);
  }
  return decoded;
}

function malformed(what: string, rule: string, cause?: unknown): never {
  throw new SvidError('SVID_MALFORMED_CERTIFICATE', `${what} ${rule}`, cause === undefined ? undefined : { cause });
}

function decode(cert: X509Certificate, what: string): SvidExtensions {
  const values = new Map<string, Uint8Array>();
  try {
    for (const { oid, value } of extensions(cert.raw)) {
      const id = WANTED.get(oid);
      if (id === undefined) continue;
      if (values.has(id)) malformed(what, `has extension ${id} more than once (rfc 5280 §4.2)`);
      values.set(id, value);
    }
  } catch (error) {
    if (error instanceof SvidError) throw error;
    malformed(what, 'has malformed extensions', error);
  }

  function parse<T>(id: string, type: new () => T): T | undefined {
    const value = values.get(id);
    if (value === undefined) return undefined;
    try {
      return AsnConvert.parse(value, type);
    } catch (error) {
      return malformed(what, `has a malformed extension ${id}`, error);
    }
  }

  const san = parse(id_ce_subjectAltName, SubjectAlternativeName) ?? [];
  const uris: string[] = [];
  for (const name of san) if (name.uniformResourceIdentifier !== undefined) uris.push(name.uniformResourceIdentifier);
  return {
    isCa: parse(id_ce_basicConstraints, BasicConstraints)?.cA ?? false,
    keyUsage: parse(id_ce_keyUsage, KeyUsage)?.toNumber(),
    uris,
  };
}

/** A DER TLV: tag byte, and the content's [start, end) within the buffer. */
interface Tlv {
  tag: number;
  start: number;
  end: number;
}

function readTlv(der: Uint8Array, at: number, limit: number): Tlv {
  if (at + 2 > limit) throw new RangeError('truncated DER');
  const tag = der[at]!;
  if ((tag & 0x1f) === 0x1f) throw new RangeError('multi-byte DER tags are not used in certificates');
  let length = der[at + 1]!;
  let start = at + 2;
  if (length & 0x80) {
    const octets = length & 0x7f;
    if (octets === 0 || octets > 4 || start + octets > limit) throw new RangeError('bad DER length');
    length = 0;
    for (let i = 0; i < octets; i++) length = length * 256 + der[start + i]!;
    start += octets;
  }
  const end = start + length;
  if (end > limit) throw new RangeError('truncated DER');
  return { tag, start, end };
}

function children(der: Uint8Array, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let at = parent.start; at < parent.end; ) {
    const tlv = readTlv(der, at, parent.end);
    out.push(tlv);
    at = tlv.end;
  }
  return out;
}

const SEQUENCE = 0x30;
const OID = 0x06;
const BOOLEAN = 0x01;
const OCTET_STRING = 0x04;
const EXTENSIONS = 0xa3; // [3] EXPLICIT in TBSCertificate

/**
 * Yields each extension's OID (content bytes as hex) and value (the OCTET STRING's content):
 * `Certificate ::= SEQUENCE { tbsCertificate SEQUENCE { …, [3] EXPLICIT Extensions }, … }`,
 * `Extension ::= SEQUENCE { extnID OID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }`.
 */
function* extensions(der: Uint8Array): Generator<{ oid: string; value: Uint8Array }> {
  const certificate = readTlv(der, 0, der.length);
  const tbs = children(der, certificate)[0];
  if (certificate.tag !== SEQUENCE || tbs?.tag !== SEQUENCE) throw new RangeError('not a certificate');
  const wrapper = children(der, tbs).find((tlv) => tlv.tag === EXTENSIONS);
  if (!wrapper) return;
  const list = children(der, wrapper)[0];
  if (list?.tag !== SEQUENCE) throw new RangeError('extensions are not a sequence');
  for (const extension of children(der, list)) {
    const [oid, second, third] = children(der, extension);
    const value = second?.tag === BOOLEAN ? third : second;
    if (extension.tag !== SEQUENCE || oid?.tag !== OID || value?.tag !== OCTET_STRING) {
      throw new RangeError('extension is not oid, critical, value');
    }
    yield { oid: Buffer.from(der.subarray(oid.start, oid.end)).toString('hex'), value: der.subarray(value.start, value.end) };
  }
}
