// A namespace import lets esbuild keep only the zod in use; `import { z }` bundles every locale (~370 KB).
import * as z from 'zod';
import type { EntitlementCommand } from './entitlement-command.js';
import { parseOrThrow } from './stripe/parse-stripe-object.js';
import { commandForStripeEvent } from './stripe/stripe-event-rules.js';
import { STRIPE_EVENT_SETTINGS_DEFAULTS, type StripeEventSettings } from './stripe/stripe-event-settings.js';
import { WebhookError } from './webhook-error.js';

/** Every failure of a field reports `rule`, or "is required" when the field is absent. */
const rule = (message: string) => ({
  error: (issue: { input?: unknown }) => (issue.input === undefined ? 'is required' : message),
});

const NON_EMPTY = 'must be a non-empty string';
const EVENT_ID = 'must be a stripe event id (evt_…)';
const SECONDS = 'must be whole seconds since the epoch';

/** What every Stripe event has, whatever its type. */
export const StripeEventEnvelope = z.object({
  id: z.string(rule(EVENT_ID)).regex(/^evt_\w+$/, EVENT_ID),
  type: z.string(rule(NON_EMPTY)).min(1, NON_EMPTY),
  created: z.number(rule(SECONDS)).int(SECONDS).nonnegative(SECONDS),
});
export type StripeEventEnvelope = z.infer<typeof StripeEventEnvelope>;

/**
 * Reads the JSON payload of a verified webhook.
 *
 * @throws {WebhookError} `WEBHOOK_PAYLOAD_MALFORMED` when the bytes are not UTF-8 JSON holding an
 *   object; `WEBHOOK_EVENT_INVALID` naming the first bad field when `id`, `type` or `created` is
 *   missing or malformed.
 */
export function parseStripeEvent(rawBody: Buffer): { envelope: StripeEventEnvelope; json: unknown } {
  let text: string;
  try {
    // `fatal`: invalid UTF-8 is a malformed payload, not U+FFFD smuggled into a user id.
    text = new TextDecoder('utf-8', { fatal: true }).decode(rawBody);
  } catch (error) {
    throw new WebhookError('WEBHOOK_PAYLOAD_MALFORMED', 'payload must be utf-8 text', { cause: error });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    // Not the parser's message: V8 quotes a piece of the body, which may hold personal data.
    throw new WebhookError('WEBHOOK_PAYLOAD_MALFORMED', 'payload must be json', { cause: error });
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new WebhookError('WEBHOOK_PAYLOAD_MALFORMED', 'payload must be a json object (a stripe event)');
  }
  return { envelope: parseOrThrow(StripeEventEnvelope, json), json };
}

/**
 * The entitlement command for a Stripe event under `settings` (see `stripe/stripe-event-rules.ts`),
 * or `undefined` when the event changes and records nothing.
 *
 * @throws {WebhookError} `WEBHOOK_EVENT_INVALID` naming the field when `data.object` is not the
 *   object the event's type carries, e.g. `stripe event field data.object.status is required`.
 */
export function entitlementCommandFor(
  envelope: StripeEventEnvelope,
  json: unknown,
  settings: StripeEventSettings = STRIPE_EVENT_SETTINGS_DEFAULTS,
): EntitlementCommand | undefined {
  return commandForStripeEvent(envelope, json, settings);
}
