// A namespace import lets esbuild keep only the zod in use; `import { z }` bundles every locale (~370 KB).
import * as z from 'zod';
import type { EntitlementAction, EntitlementCommand } from './entitlement-command.js';
import { WebhookError } from './webhook-error.js';

/** Which Stripe event types change entitlements, and how. Every other type is acknowledged and ignored. */
export const ENTITLEMENT_ACTIONS: Readonly<Record<string, EntitlementAction>> = {
  'checkout.session.completed': 'grant',
  'invoice.paid': 'grant',
  'customer.subscription.deleted': 'revoke',
};

/** Granted when the object's metadata names none. */
export const DEFAULT_ENTITLEMENT = 'premium_features';

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

/** The metadata of the event's object (`data.object.metadata`) an entitlement event must carry. */
const EntitlementMetadata = z.object(
  {
    user_id: z.string(rule(NON_EMPTY)).min(1, NON_EMPTY),
    entitlement: z.string(rule(NON_EMPTY)).min(1, NON_EMPTY).default(DEFAULT_ENTITLEMENT),
  },
  { error: 'must be an object' },
);
const METADATA_PATH = ['data', 'object', 'metadata'] as const;

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
 * The entitlement command for a Stripe event, or `undefined` when its type changes no entitlement.
 *
 * @throws {WebhookError} `WEBHOOK_EVENT_INVALID` naming the field, e.g.
 *   `data.object.metadata.user_id is required`.
 */
export function entitlementCommandFor(envelope: StripeEventEnvelope, json: unknown): EntitlementCommand | undefined {
  const action = Object.hasOwn(ENTITLEMENT_ACTIONS, envelope.type) ? ENTITLEMENT_ACTIONS[envelope.type] : undefined;
  if (action === undefined) return undefined;
  const metadata = parseOrThrow(EntitlementMetadata, metadataOf(json), METADATA_PATH);
  return {
    action,
    eventId: envelope.id,
    eventType: envelope.type,
    eventCreated: envelope.created,
    purchaserId: metadata.user_id,
    entitlement: metadata.entitlement,
  };
}

/**
 * `data.object.metadata`, with absent levels read as empty objects: a missing `metadata` is then
 * reported as the field actually needed, `data.object.metadata.user_id`.
 */
function metadataOf(json: unknown): unknown {
  let node = json;
  for (const key of METADATA_PATH) {
    node = typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[key] : undefined;
    node ??= {};
  }
  return node;
}

function parseOrThrow<T>(schema: z.ZodType<T>, json: unknown, prefix: readonly string[] = []): T {
  const result = schema.safeParse(json);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = [...prefix, ...(issue?.path.map(String) ?? [])].join('.') || '(event)';
  throw new WebhookError('WEBHOOK_EVENT_INVALID', `stripe event field ${field} ${issue?.message ?? 'is invalid'}`, {
    cause: result.error,
  });
}
