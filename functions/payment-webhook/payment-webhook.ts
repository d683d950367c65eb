import { MeshError } from '../../shared/errors.js';
import type { EnqueueEntitlementCommand } from './entitlement-queue.js';
import { entitlementCommandFor, parseStripeEvent } from './payment-event.js';
import { parseStripeSignatureHeader, verifyStripeSignature } from './stripe-signature.js';
import { STRIPE_EVENT_SETTINGS_DEFAULTS, type StripeEventSettings } from './stripe/stripe-event-settings.js';
import { WebhookError } from './webhook-error.js';
import { headerValue, webhookRequestFromApiGateway, type WebhookRequest } from './webhook-request.js';

/** The HTTP answer; fits both API Gateway payload versions. */
export interface WebhookResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

/** The few log calls the webhook makes; a Powertools Logger is one. */
export interface WebhookLog {
  info(message: string, attributes: Record<string, unknown>): void;
  warn(message: string, attributes: Record<string, unknown>): void;
  error(message: string, attributes: Record<string, unknown>): void;
}

export interface PaymentWebhookDeps {
  /** The signing secrets currently accepted (several during a rotation). */
  signingSecrets(): Promise<readonly string[]>;
  /** Durably queues one command; throws when it cannot. */
  enqueue: EnqueueEntitlementCommand;
  /** Milliseconds since the epoch. */
  now(): number;
  log?: WebhookLog;
}

export interface PaymentWebhookOptions {
  /** Accepted distance, either way, between the signature's `t` and now. */
  toleranceSeconds: number;
  /** How Stripe events map onto entitlements. */
  stripe: StripeEventSettings;
}

export const PAYMENT_WEBHOOK_DEFAULTS: PaymentWebhookOptions = { toleranceSeconds: 300, stripe: STRIPE_EVENT_SETTINGS_DEFAULTS };

/**
 * Handles one Stripe webhook delivery: verifies the signature on the raw bytes, then parses the
 * event, then queues the entitlement command, and answers with the outcome. It never throws.
 *
 * - 200 `{"received":true}` once the command is queued; 200 `{"received":true,"ignored":"<type>"}`
 *   for an event that changes and records nothing (an unhandled type, or e.g. a partial refund
 *   naming no user): nothing queued. A handled event that names no user is queued all the same:
 *   its purchaser is resolved at grant time, and a 4xx would only make Stripe retry it for days;
 * - 401 for a missing, malformed or non-matching signature or a timestamp beyond the tolerance;
 *   checked before the body is parsed, so an unsigned body never gets a 400 for its content;
 * - 400 for a payload that is not a Stripe event: not JSON, no `id`/`type`/`created`, or a
 *   handled type whose `data.object` is not that type's object (the message names the field);
 * - 500 when the signing secret cannot be loaded or the queue refuses the command, so Stripe retries.
 *
 * Errors answer `{"error":{"code","message"}}`; messages never contain a secret or a signature.
 */
export async function handlePaymentWebhook(
  request: WebhookRequest,
  deps: PaymentWebhookDeps,
  options: Partial<PaymentWebhookOptions> = {},
): Promise<WebhookResponse> {
  const { toleranceSeconds, stripe } = { ...PAYMENT_WEBHOOK_DEFAULTS, ...options };
  try {
    // Parsed before the secret is loaded: junk is refused without touching Secrets Manager.
    const signature = parseStripeSignatureHeader(headerValue(request.headers, 'stripe-signature'));
    const secrets = await loadSecrets(deps);
    verifyStripeSignature(request.rawBody, signature, secrets, { toleranceSeconds, now: deps.now });

    const { envelope, json } = parseStripeEvent(request.rawBody);
    const command = entitlementCommandFor(envelope, json, stripe);
    const event = { eventId: envelope.id, eventType: envelope.type, apiVersion: apiVersionOf(json) };
    if (command === undefined) {
      deps.log?.info('payment event ignored', event);
      return respond(200, { received: true, ignored: envelope.type });
    }
    await deps.enqueue(command).catch((error: unknown) => {
      if (error instanceof WebhookError) throw error;
      throw new WebhookError('WEBHOOK_QUEUE_FAILED', `cannot queue event ${envelope.id}: ${nameOf(error)}`, { cause: error });
    });
    deps.log?.info('payment event queued', {
      ...event,
      action: command.action,
      purchaserNamed: command.purchaserId !== undefined,
      stripeRefs: command.stripeRefs ?? [],
    });
    return respond(200, { received: true });
  } catch (error) {
    return errorResponse(error, deps.log);
  }
}

/**
 * {@link handlePaymentWebhook} for an API Gateway proxy event (REST payload v1 or HTTP API v2).
 * An event that is not one answers 400 `WEBHOOK_REQUEST_INVALID`; it never throws.
 */
export async function handleApiGatewayPaymentWebhook(
  event: unknown,
  deps: PaymentWebhookDeps,
  options: Partial<PaymentWebhookOptions> = {},
): Promise<WebhookResponse> {
  let request: WebhookRequest;
  try {
    request = webhookRequestFromApiGateway(event);
  } catch (error) {
    return errorResponse(error, deps.log);
  }
  return handlePaymentWebhook(request, deps, options);
}

/** The event's `api_version` (the endpoint's), for the log; not checked: every version since 2023-10-16 is read. */
function apiVersionOf(json: unknown): string | undefined {
  const version = (json as { api_version?: unknown }).api_version;
  return typeof version === 'string' ? version : undefined;
}

async function loadSecrets(deps: PaymentWebhookDeps): Promise<readonly string[]> {
  try {
    return await deps.signingSecrets();
  } catch (error) {
    const reason = error instanceof MeshError ? error.code : nameOf(error);
    throw new WebhookError('WEBHOOK_SECRET_UNAVAILABLE', `cannot load the webhook signing secret: ${reason}`, {
      cause: error,
    });
  }
}

function errorResponse(error: unknown, log: WebhookLog | undefined): WebhookResponse {
  // An unexpected error's message is not ours to vouch for: only its name leaves the function.
  const known =
    error instanceof WebhookError
      ? error
      : new WebhookError('WEBHOOK_INTERNAL', `unexpected ${nameOf(error)} while handling the webhook`, { cause: error });
  const attributes = { code: known.code, reason: known.message, statusCode: known.statusCode };
  if (known.statusCode >= 500) log?.error('payment webhook failed', attributes);
  else log?.warn('payment webhook rejected', attributes);
  return respond(known.statusCode, { error: { code: known.code, message: known.message } });
}

function respond(statusCode: number, body: unknown): WebhookResponse {
  return { statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

function nameOf(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}
