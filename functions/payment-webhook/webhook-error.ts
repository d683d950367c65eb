import { MeshError } from '../../shared/errors.js';

/**
 * Every way a payment webhook can fail, with the HTTP status Stripe is answered with. Client
 * mistakes are 4xx (Stripe does not fix them by retrying, but they show in its dashboard); only
 * our own failures are 5xx, so Stripe retries once we recover.
 */
export const WEBHOOK_ERROR_STATUS = {
  WEBHOOK_REQUEST_INVALID: 400,
  WEBHOOK_SIGNATURE_MISSING: 401,
  WEBHOOK_SIGNATURE_MALFORMED: 401,
  WEBHOOK_SIGNATURE_MISMATCH: 401,
  WEBHOOK_TIMESTAMP_OUT_OF_TOLERANCE: 401,
  WEBHOOK_PAYLOAD_MALFORMED: 400,
  WEBHOOK_EVENT_INVALID: 400,
  WEBHOOK_SECRET_MALFORMED: 500,
  WEBHOOK_SECRET_UNAVAILABLE: 500,
  WEBHOOK_QUEUE_FAILED: 500,
  WEBHOOK_INTERNAL: 500,
} as const satisfies Record<string, number>;

export type WebhookErrorCode = keyof typeof WEBHOOK_ERROR_STATUS;

/**
 * A payment webhook that cannot be accepted. Messages state the broken rule and never contain the
 * signing secret or a signature: they are logged and returned to the caller.
 */
export class WebhookError extends MeshError<WebhookErrorCode> {
  /** The HTTP status this error answers with. */
  get statusCode(): number {
    return WEBHOOK_ERROR_STATUS[this.code];
  }
}
