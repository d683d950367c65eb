import { describe, expect, it } from 'vitest';
import {
  parseStripeSignatureHeader,
  stripeV1Signature,
  verifyStripeSignature,
} from '../../../../functions/payment-webhook/stripe-signature.js';
import type { WebhookError } from '../../../../functions/payment-webhook/webhook-error.js';
import {
  ROTATED_SIGNING_SECRET,
  signStripePayload,
  stripeEventBody,
  stripeV1SignatureHex,
  TEST_SIGNING_SECRET,
} from '../../../fixtures/stripe.js';

const T = 1_767_225_600; // 2026-01-01T00:00:00Z
const atT = (offsetSeconds = 0) => () => (T + offsetSeconds) * 1000;
const body = Buffer.from(stripeEventBody({ created: T }));

function verify(header: string | undefined, secrets: string[] = [TEST_SIGNING_SECRET], now = atT(), rawBody = body) {
  verifyStripeSignature(rawBody, parseStripeSignatureHeader(header), secrets, { toleranceSeconds: 300, now });
}

function codeOf(action: () => void): string | undefined {
  try {
    action();
  } catch (error) {
    return (error as WebhookError).code;
  }
  return undefined;
}

describe('stripeV1Signature', () => {
  it('is the HMAC-SHA256 of "<t>.<body>" keyed with the whole whsec_ secret, as Stripe documents', () => {
    // Computed independently by the fixture from Stripe's documentation.
    expect(stripeV1Signature(TEST_SIGNING_SECRET, String(T), body).toString('hex')).toBe(
      stripeV1SignatureHex(body, TEST_SIGNING_SECRET, T),
    );
  });
});

describe('parseStripeSignatureHeader', () => {
  it('reads t and every v1, ignoring v0 and unknown schemes', () => {
    const a = 'a'.repeat(64);
    const b = 'B'.repeat(64);

    const parsed = parseStripeSignatureHeader(`t=${T},v1=${a},v0=${'c'.repeat(64)},v1=${b},v9=zz`);

    expect(parsed.timestamp).toBe(T);
    expect(parsed.timestampText).toBe(String(T));
    expect(parsed.signatures.map((s) => s.toString('hex'))).toEqual([a, b.toLowerCase()]);
  });

  it.each([
    ['no header', undefined, 'WEBHOOK_SIGNATURE_MISSING'],
    ['a blank header', '  ', 'WEBHOOK_SIGNATURE_MISSING'],
    ['no t', `v1=${'a'.repeat(64)}`, 'WEBHOOK_SIGNATURE_MALFORMED'],
    ['no v1', `t=${T},v0=${'a'.repeat(64)}`, 'WEBHOOK_SIGNATURE_MALFORMED'],
    ['t not a number', `t=soon,v1=${'a'.repeat(64)}`, 'WEBHOOK_SIGNATURE_MALFORMED'],
    ['t twice', `t=${T},t=${T},v1=${'a'.repeat(64)}`, 'WEBHOOK_SIGNATURE_MALFORMED'],
    ['a v1 that is not hex', `t=${T},v1=${'g'.repeat(64)}`, 'WEBHOOK_SIGNATURE_MALFORMED'],
    ['a v1 of the wrong length', `t=${T},v1=${'a'.repeat(62)}`, 'WEBHOOK_SIGNATURE_MALFORMED'],
    ['garbage', 'garbage', 'WEBHOOK_SIGNATURE_MALFORMED'],
  ])('refuses %s', (_, header, code) => {
    expect(codeOf(() => parseStripeSignatureHeader(header))).toBe(code);
  });

  it('states the rule without echoing the header', () => {
    const signature = 'f'.repeat(63);
    try {
      parseStripeSignatureHeader(`t=${T},v1=${signature}`);
      expect.unreachable();
    } catch (error) {
      expect((error as Error).message).toBe(
        'stripe-signature header must be t=<unix seconds> followed by one or more v1=<64 hex digits>',
      );
    }
  });
});

describe('verifyStripeSignature', () => {
  it('accepts a signature made with the secret over the exact bytes', () => {
    expect(codeOf(() => verify(signStripePayload(body, TEST_SIGNING_SECRET, T)))).toBeUndefined();
  });

  it('refuses a signature made with another secret', () => {
    expect(codeOf(() => verify(signStripePayload(body, ROTATED_SIGNING_SECRET, T)))).toBe('WEBHOOK_SIGNATURE_MISMATCH');
  });

  it('accepts a signature under the second of several configured secrets (rotation)', () => {
    const header = signStripePayload(body, ROTATED_SIGNING_SECRET, T);

    expect(codeOf(() => verify(header, [TEST_SIGNING_SECRET, ROTATED_SIGNING_SECRET]))).toBeUndefined();
  });

  it('accepts when the second of several v1 values matches', () => {
    const good = stripeV1SignatureHex(body, TEST_SIGNING_SECRET, T);
    const other = stripeV1SignatureHex(body, ROTATED_SIGNING_SECRET, T);

    expect(codeOf(() => verify(`t=${T},v1=${other},v1=${good}`))).toBeUndefined();
  });

  it('refuses a body altered by one byte after signing', () => {
    const header = signStripePayload(body, TEST_SIGNING_SECRET, T);
    const altered = Buffer.from(body);
    altered[altered.length - 2] = (altered[altered.length - 2] ?? 0) ^ 0x01;

    expect(codeOf(() => verify(header, undefined, atT(), altered))).toBe('WEBHOOK_SIGNATURE_MISMATCH');
  });

  it('refuses a signature whose t was rewritten (t is signed)', () => {
    const good = stripeV1SignatureHex(body, TEST_SIGNING_SECRET, T);

    expect(codeOf(() => verify(`t=${T + 1},v1=${good}`))).toBe('WEBHOOK_SIGNATURE_MISMATCH');
  });

  it('signs t as sent: a zero-padded t is not the same text', () => {
    const good = stripeV1SignatureHex(body, TEST_SIGNING_SECRET, T);

    expect(codeOf(() => verify(`t=0${T},v1=${good}`))).toBe('WEBHOOK_SIGNATURE_MISMATCH');
  });

  it.each([
    ['300 s old', -300, undefined],
    ['301 s old', -301, 'WEBHOOK_TIMESTAMP_OUT_OF_TOLERANCE'],
    ['300 s in the future', 300, undefined],
    ['301 s in the future', 301, 'WEBHOOK_TIMESTAMP_OUT_OF_TOLERANCE'],
  ])('with a tolerance of 300 s, a signature %s is %s', (_, offset, code) => {
    const header = signStripePayload(body, TEST_SIGNING_SECRET, T + offset);

    expect(codeOf(() => verify(header))).toBe(code);
  });

  it('names the age and the tolerance when the timestamp is stale', () => {
    const header = signStripePayload(body, TEST_SIGNING_SECRET, T - 3600);

    expect(() => verify(header)).toThrow('signature timestamp 1767222000 is 3600s old, beyond the tolerance of 300s');
  });

  it('checks the signature before the timestamp: a stale forgery is a mismatch', () => {
    const header = signStripePayload(body, ROTATED_SIGNING_SECRET, T - 3600);

    expect(codeOf(() => verify(header))).toBe('WEBHOOK_SIGNATURE_MISMATCH');
  });
});
