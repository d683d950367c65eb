import { describe, expect, it } from 'vitest';
import { isSensitiveKey, REDACTED, scrubLogValue, scrubText } from '../../../shared/observability/log-scrubber.js';
import { findSecretsInLog } from '../../fixtures/log-audit.js';

const PEM_KEY = [
  '-----BEGIN PRIVATE KEY-----',
  'MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgevZzL1gdAFr88hb2',
  'OF/2NxApJCzGCEDdfSp6VQO30hyhRANCAAQRWz+jn65BtOMvdyHKcvjBeBSDZH2r',
  '-----END PRIVATE KEY-----',
].join('\n');
const SIGNATURE_HEX = '5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd';

describe('scrubText', () => {
  it.each([
    ['a PEM private key', `bad key: ${PEM_KEY} (end)`, 'bad key: [REDACTED PEM] (end)'],
    ['a PEM block with escaped newlines', `{"x509SVID":"-----BEGIN CERTIFICATE-----\\nMIIB\\n-----END CERTIFICATE-----\\n"}`, '{"x509SVID":"[REDACTED PEM]\\n"}'],
    ['a PEM block cut off before its END line', 'Unexpected token in JSON: "-----BEGIN PRIVATE KEY-----\\nMIGHAgEAMBMG', 'Unexpected token in JSON: "[REDACTED PEM]'],
    ['the tail of a block whose head was cut', 'AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----', 'AwEHBG0wawIBAQQg\n[REDACTED PEM]'],
    ['a Stripe webhook secret', 'secret is whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw ok', 'secret is [REDACTED WEBHOOK SECRET] ok'],
    ['a Stripe-Signature header', `stripe-signature: t=1492774577,v1=${SIGNATURE_HEX},v0=6ffbb59b2300aae63f27240`, 'stripe-signature: [REDACTED SIGNATURE]'],
    ['a stray signature value', `expected v1=${SIGNATURE_HEX}`, `expected v1=${REDACTED}`],
    ['a Stripe secret key', 'key sk_live_51H8dqZ2eZvKYlo2C', 'key [REDACTED API KEY]'],
    ['a bearer token', 'Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.abc', `Authorization: Bearer ${REDACTED}`],
    ['a JWT-SVID quoted without its scheme', 'token eyJhbGciOiJFUzI1NiIsImtpZCI6ImsxIn0.eyJzdWIiOiJzcGlmZmUifQ.c2lnbmF0dXJl refused', 'token [REDACTED JWT] refused'],
    ['a sensitive key inside JSON text', '{"spiffeID":"spiffe://jia.app/x","x509SVIDKey":"abc\\"def"}', `{"spiffeID":"spiffe://jia.app/x","x509SVIDKey":"${REDACTED}"}`],
    ['a PEM body line without its armour', 'MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgevZzL1gdAFr88hb2', '[REDACTED BASE64]'],
  ])('redacts %s', (_name, input, expected) => {
    const scrubbed = scrubText(input);

    expect(scrubbed).toBe(expected);
    expect(findSecretsInLog(scrubbed)).toEqual([]);
  });

  it.each([
    ['a SPIFFE ID', 'spiffe://jia.app/contact-service'],
    ['an error code and message', 'IDENTITY_SECRET_FETCH_FAILED: secret arn:aws:secretsmanager:eu-west-1:123456789012:secret:svid could not be read'],
    ['a gRPC status', '14 UNAVAILABLE: No connection established. Last error: connect ECONNREFUSED 127.0.0.1:50051'],
    ['a hex fingerprint', 'serial 3f9a0c2b7d1e4f5a6b7c8d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c'],
    ['prose about a signature', 'no v1 signature matched the payload'],
    ['prose about credentials', 'bearer tokens and basic authentication are not used by the mesh'],
    ['a stack frame', '    at ServicePolicy.execute (file:///work/main/shared/resilience/service-policy.ts:120:15)'],
  ])('leaves %s alone', (_name, input) => {
    expect(scrubText(input)).toBe(input);
  });
});

describe('isSensitiveKey', () => {
  it.each(['privateKey', 'privateKeyPem', 'x509SVIDKey', 'secret', 'webhookSecret', 'SecretBinary', 'signature', 'stripe-signature', 'Stripe-Signature', 'authorization', 'Authorization', 'password', 'accessToken', 'cookie'])(
    'redacts the value of %s',
    (key) => {
      expect(isSensitiveKey(key)).toBe(true);
    },
  );

  it.each(['spiffeId', 'secretId', 'SVID_SECRET_ID', 'secretArn', 'secretName', 'serialNumber', 'code', 'message', 'meshService'])('keeps the value of %s', (key) => {
    expect(isSensitiveKey(key)).toBe(false);
  });
});

describe('scrubLogValue', () => {
  it('replaces a sensitive key whole, whatever its type', () => {
    expect(scrubLogValue('privateKey', { kty: 'EC', d: 'secret' })).toBe(REDACTED);
    expect(scrubLogValue('signature', 42)).toBe(REDACTED);
  });

  it('never writes binary data out byte by byte', () => {
    const key = Buffer.from(PEM_KEY);

    expect(scrubLogValue('body', new Uint8Array(key))).toBe(`[binary ${key.length} bytes]`);
    expect(scrubLogValue('body', key.toJSON())).toBe(`[binary ${key.length} bytes]`);
  });

  it('passes numbers, booleans and plain objects through for JSON.stringify to descend into', () => {
    const nested = { attempt: 2 };

    expect(scrubLogValue('attempt', 2)).toBe(2);
    expect(scrubLogValue('ok', true)).toBe(true);
    expect(scrubLogValue('nested', nested)).toBe(nested);
  });
});
