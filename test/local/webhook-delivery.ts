/**
 * Stripe webhook deliveries for local runs: a Stripe event wrapped in the API Gateway (HTTP API,
 * payload v2) event API Gateway hands payment-webhook, with a `Stripe-Signature` computed now.
 *
 * Signatures carry their time (`t=`) and payment-webhook refuses one older than its tolerance
 * (300 s by default), so a stored sample cannot stay signed: {@link prepareWebhookEvent} re-signs
 * a stale one at invoke time, with a warning the CLI prints loudly (a tester checking that stale
 * signatures are refused must not mistake the 200 for the function's answer).
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { parseSigningSecrets } from '../../functions/payment-webhook/signing-secrets.js';
import { apiGatewayV2Event, nowSeconds, signStripePayload } from '../fixtures/stripe.js';

/** The secret local runs sign with and payment-webhook accepts when no other is configured. */
export const LOCAL_SIGNING_SECRET = 'whsec_local_development_only_00000000';

/** payment-webhook's default tolerance (`WEBHOOK_TOLERANCE_SECONDS`). */
const DEFAULT_TOLERANCE_SECONDS = 300;

/** API Gateway's headers: by name, as sent (v1 may hold undefined values). */
type Headers = Record<string, string | undefined>;

/** Whether `json` is a bare Stripe event (`{"object": "event", "type": …}`), not an API Gateway event. */
export function isStripeEvent(json: unknown): json is Record<string, unknown> {
  const value = json as { object?: unknown; type?: unknown; requestContext?: unknown } | null;
  return typeof value === 'object' && value !== null && value.object === 'event' && typeof value.type === 'string' && value.requestContext === undefined;
}

/** Whether `json` looks like an API Gateway proxy event (v1 or v2). */
export function isApiGatewayEvent(json: unknown): json is Record<string, unknown> & { headers?: Headers; body?: string | null } {
  const value = json as { requestContext?: unknown } | null;
  return typeof value === 'object' && value !== null && typeof value.requestContext === 'object';
}

/** An API Gateway v2 delivery of `body` (the exact bytes Stripe would send), signed under `secret` at `t`. */
export function signedDelivery(body: string, secret: string, t: number = nowSeconds()): APIGatewayProxyEventV2 {
  return apiGatewayV2Event({ body, headers: { 'Stripe-Signature': signStripePayload(body, secret, t) } });
}

/** The raw body bytes of an API Gateway event (base64-decoded when flagged). */
function rawBodyOf(event: { body?: string | null; isBase64Encoded?: boolean }): Buffer {
  return Buffer.from(event.body ?? '', event.isBase64Encoded ? 'base64' : 'utf8');
}

/** The header's name as the event spells it, or undefined. */
function signatureHeaderName(headers: Record<string, unknown> | undefined): string | undefined {
  return Object.keys(headers ?? {}).find((name) => name.toLowerCase() === 'stripe-signature');
}

/** Seconds between the `t=` of the event's Stripe-Signature and `now`, or undefined without one. */
export function signatureAgeSeconds(event: { headers?: Headers }, now: number = nowSeconds()): number | undefined {
  const name = signatureHeaderName(event.headers);
  const t = name === undefined ? undefined : /(?:^|,)\s*t=(\d+)/.exec(event.headers![name] ?? '')?.[1];
  return t === undefined ? undefined : now - Number(t);
}

/** A copy of the API Gateway event with its Stripe-Signature (and `multiValueHeaders`, v1) computed again. */
export function resignEvent<E extends { headers?: Headers; body?: string | null; isBase64Encoded?: boolean }>(
  event: E,
  secret: string,
  t: number = nowSeconds(),
): E {
  const name = signatureHeaderName(event.headers) ?? 'stripe-signature';
  const signature = signStripePayload(rawBodyOf(event), secret, t);
  const copy = structuredClone(event) as E & { multiValueHeaders?: Record<string, string[]> };
  copy.headers = { ...copy.headers, [name]: signature };
  if (copy.multiValueHeaders) copy.multiValueHeaders[name] = [signature];
  return copy;
}

/** The first secret of a `WEBHOOK_SIGNING_SECRET` value (several during a rotation; JSON form accepted). */
export function signingSecretFrom(value: string): string {
  return parseSigningSecrets(value, 'WEBHOOK_SIGNING_SECRET')[0]!;
}

export type ResignMode = 'auto' | 'always' | 'never';

export interface PrepareWebhookOptions {
  /** `auto`: re-sign only a signature older (or newer) than the tolerance; `always`; `never`. */
  resign: ResignMode;
  /** Signs with it; `undefined` when no literal secret is known (then nothing can be signed). */
  secret: string | undefined;
  toleranceSeconds: number;
  now: number;
}

export const PREPARE_WEBHOOK_DEFAULTS = { resign: 'auto', toleranceSeconds: DEFAULT_TOLERANCE_SECONDS } as const;

/**
 * What {@link prepareWebhookEvent} did, for the CLI to say on stderr: a `note`, or a `warning`
 * when the event was changed in a way that hides what the function would have answered (a stale
 * signature made fresh), which the CLI must say loudly.
 */
export type WebhookPreparation = { event: unknown; note?: string; warning?: string };

/**
 * Makes `json` deliverable now: a bare Stripe event is wrapped in a signed API Gateway v2 event;
 * an API Gateway event carrying a Stripe-Signature is re-signed when `resign` says so (`auto`: when
 * the signature is out of tolerance). An event without a signature is sent as it is (`always`
 * adds one), as is anything else: the handler's answer to it is the point.
 *
 * @throws {Error} when a signature is needed and no secret is known.
 */
export function prepareWebhookEvent(json: unknown, opts: Partial<PrepareWebhookOptions> & Pick<PrepareWebhookOptions, 'secret'>): WebhookPreparation {
  const options = { ...PREPARE_WEBHOOK_DEFAULTS, now: nowSeconds(), ...opts };
  const secret = () => {
    if (options.secret === undefined) {
      throw new Error('cannot sign the event: set WEBHOOK_SIGNING_SECRET (the CLI signs with literal secrets only), or pass --no-resign');
    }
    return options.secret;
  };
  if (isStripeEvent(json)) {
    if (options.resign === 'never') return { event: json, note: 'sending the bare stripe event unwrapped (--no-resign)' };
    return { event: signedDelivery(JSON.stringify(json, null, 2), secret(), options.now), note: 'wrapped the stripe event in a signed api gateway v2 event' };
  }
  if (!isApiGatewayEvent(json) || options.resign === 'never') return { event: json };
  const age = signatureAgeSeconds(json, options.now);
  if (options.resign === 'always') return { event: resignEvent(json, secret(), options.now), note: 're-signed the stripe-signature (--resign)' };
  if (age === undefined || Math.abs(age) <= options.toleranceSeconds) return { event: json };
  const when = age > 0 ? `${age} s old` : `${-age} s in the future`;
  return {
    event: resignEvent(json, secret(), options.now),
    warning:
      `the event's Stripe-Signature is ${when}, beyond the ${options.toleranceSeconds} s tolerance: payment-webhook refuses it ` +
      `(401, WEBHOOK_TIMESTAMP_OUT_OF_TOLERANCE). It was RE-SIGNED NOW, so this delivery is accepted; pass --no-resign to send it as stored and see the refusal`,
  };
}
