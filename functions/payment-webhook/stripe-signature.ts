import { createHmac, timingSafeEqual } from 'node:crypto';
import { WebhookError } from './webhook-error.js';

/** The parts of a `Stripe-Signature` header this verifier uses. */
export interface StripeSignatureHeader {
  /** The `t` value exactly as sent: it is signed as text, so `t=017…` must not become `17…`. */
  timestampText: string;
  /** `t` in seconds since the epoch. */
  timestamp: number;
  /** Every `v1` value, decoded (32 bytes each). `v0` and unknown schemes are ignored, as Stripe's libraries do. */
  signatures: Buffer[];
}

export interface VerifyStripeSignatureOptions {
  /** Accepted distance, either way, between `t` and now. */
  toleranceSeconds: number;
  /** Milliseconds since the epoch. */
  now: () => number;
}

export const VERIFY_STRIPE_SIGNATURE_DEFAULTS: VerifyStripeSignatureOptions = {
  toleranceSeconds: 300,
  now: () => Date.now(),
};

const MALFORMED_RULE = 'stripe-signature header must be t=<unix seconds> followed by one or more v1=<64 hex digits>';
const HEX_SHA256 = /^[0-9a-fA-F]{64}$/;
const UNIX_SECONDS = /^\d{1,12}$/;

/**
 * Parses a `Stripe-Signature` header (`t=<unix>,v1=<hex>[,v1=<hex>][,v0=…]`).
 *
 * @throws {WebhookError} `WEBHOOK_SIGNATURE_MISSING` when there is no header (or it is blank);
 *   `WEBHOOK_SIGNATURE_MALFORMED` when `t` is missing, repeated or not a number, or there is no
 *   `v1`, or a `v1` is not a hex SHA-256. Messages never echo the header.
 */
export function parseStripeSignatureHeader(header: string | undefined): StripeSignatureHeader {
  if (header === undefined || header.trim() === '') {
    throw new WebhookError('WEBHOOK_SIGNATURE_MISSING', 'request must carry a stripe-signature header');
  }
  let timestampText: string | undefined;
  const signatures: Buffer[] = [];
  for (const item of header.split(',')) {
    const eq = item.indexOf('=');
    const key = (eq === -1 ? item : item.slice(0, eq)).trim();
    const value = eq === -1 ? '' : item.slice(eq + 1).trim();
    if (key === 't') {
      if (timestampText !== undefined || !UNIX_SECONDS.test(value)) throw malformed();
      timestampText = value;
    } else if (key === 'v1') {
      if (!HEX_SHA256.test(value)) throw malformed();
      signatures.push(Buffer.from(value, 'hex'));
    }
  }
  if (timestampText === undefined || signatures.length === 0) throw malformed();
  return { timestampText, timestamp: Number(timestampText), signatures };
}

/** The `v1` signature Stripe computes: HMAC-SHA256 keyed with the whole `whsec_…` secret over `<t>.<raw body bytes>`. */
export function stripeV1Signature(secret: string, timestampText: string, rawBody: Buffer): Buffer {
  return createHmac('sha256', secret).update(`${timestampText}.`, 'utf8').update(rawBody).digest();
}

/**
 * Verifies that `rawBody` was signed by Stripe with one of `secrets` within the tolerance, given
 * the parsed header ({@link parseStripeSignatureHeader}: parse first, so junk is refused before
 * any secret is loaded).
 *
 * The signature is checked before the timestamp, as Stripe's libraries do: an unauthenticated
 * timestamp means nothing. Any configured secret (rotation) may match any `v1` value; each
 * comparison is constant-time over equal-length buffers.
 *
 * @throws {WebhookError} `WEBHOOK_SIGNATURE_MISMATCH` or `WEBHOOK_TIMESTAMP_OUT_OF_TOLERANCE`.
 */
export function verifyStripeSignature(
  rawBody: Buffer,
  parsed: StripeSignatureHeader,
  secrets: readonly string[],
  options: Partial<VerifyStripeSignatureOptions> = {},
): void {
  const { toleranceSeconds, now } = { ...VERIFY_STRIPE_SIGNATURE_DEFAULTS, ...options };
  if (!matchesAny(rawBody, parsed, secrets)) {
    throw new WebhookError(
      'WEBHOOK_SIGNATURE_MISMATCH',
      'no v1 signature in the stripe-signature header matches the body under any configured signing secret',
    );
  }
  const ageSeconds = Math.floor(now() / 1000) - parsed.timestamp;
  if (Math.abs(ageSeconds) > toleranceSeconds) {
    throw new WebhookError(
      'WEBHOOK_TIMESTAMP_OUT_OF_TOLERANCE',
      `signature timestamp ${parsed.timestamp} is ${Math.abs(ageSeconds)}s ${ageSeconds > 0 ? 'old' : 'in the future'}, beyond the tolerance of ${toleranceSeconds}s`,
    );
  }
}

function matchesAny(rawBody: Buffer, header: StripeSignatureHeader, secrets: readonly string[]): boolean {
  let matched = false;
  // No early exit: the time taken does not tell which secret or which signature matched.
  for (const secret of secrets) {
    const expected = stripeV1Signature(secret, header.timestampText, rawBody);
    for (const candidate of header.signatures) {
      if (candidate.length === expected.length && timingSafeEqual(candidate, expected)) matched = true;
    }
  }
  return matched;
}

function malformed(): WebhookError {
  return new WebhookError('WEBHOOK_SIGNATURE_MALFORMED', MALFORMED_RULE);
}
