/**
 * The MD5 digests SQS returns with every message: of the body, and of the message attributes in
 * the binary encoding SQS documents ("Calculating the MD5 message digest for message attributes",
 * Amazon SQS Developer Guide). The AWS SDK checks the body digest of every send and receive, so a
 * wrong one fails the call with `InvalidChecksumError`.
 */
import { createHash } from 'node:crypto';

/** A message attribute as the SQS JSON protocol carries it (`BinaryValue` base64-encoded). */
export interface SqsMessageAttribute {
  DataType: string;
  StringValue?: string;
  BinaryValue?: string;
}

/** Hex MD5 of the body's UTF-8 bytes. */
export function md5OfBody(body: string): string {
  return createHash('md5').update(body, 'utf8').digest('hex');
}

/**
 * Hex MD5 of the attributes, or `undefined` when there are none (SQS then leaves the field out).
 * Per attribute, in ascending name order: length-prefixed name, length-prefixed data type, one
 * transport byte (1 string, 2 binary), length-prefixed value; lengths are 4-byte big-endian.
 */
export function md5OfMessageAttributes(attributes: Record<string, SqsMessageAttribute> | undefined): string | undefined {
  const names = Object.keys(attributes ?? {}).sort();
  if (names.length === 0 || attributes === undefined) return undefined;
  const hash = createHash('md5');
  for (const name of names) {
    const attribute = attributes[name]!;
    const binary = attribute.DataType.startsWith('Binary');
    hash.update(lengthPrefixed(Buffer.from(name, 'utf8')));
    hash.update(lengthPrefixed(Buffer.from(attribute.DataType, 'utf8')));
    hash.update(Buffer.from([binary ? 2 : 1]));
    const value = binary ? Buffer.from(attribute.BinaryValue ?? '', 'base64') : Buffer.from(attribute.StringValue ?? '', 'utf8');
    hash.update(lengthPrefixed(value));
  }
  return hash.digest('hex');
}

function lengthPrefixed(bytes: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
}
