import { describe, expect, it, vi } from 'vitest';
import type { EntitlementCommand } from '../../../../functions/payment-webhook/entitlement-command.js';
import {
  handleApiGatewayPaymentWebhook,
  handlePaymentWebhook,
  type PaymentWebhookDeps,
} from '../../../../functions/payment-webhook/payment-webhook.js';
import { WebhookError } from '../../../../functions/payment-webhook/webhook-error.js';
import { SecretError } from '../../../../shared/secrets/secret-error.js';
import { signStripePayload, stripeEventBody, TEST_SIGNING_SECRET } from '../../../fixtures/stripe.js';

const T = 1_767_225_600;

/** Fakes for every dependency: secrets served from memory, commands collected, a fixed clock. */
function fakes(overrides: Partial<PaymentWebhookDeps> = {}) {
  const queued: EntitlementCommand[] = [];
  const logs: { level: string; message: string; attributes: Record<string, unknown> }[] = [];
  const signingSecrets = vi.fn(async () => [TEST_SIGNING_SECRET]);
  const deps: PaymentWebhookDeps = {
    signingSecrets,
    enqueue: async (command) => {
      queued.push(command);
    },
    now: () => T * 1000,
    log: {
      info: (message, attributes) => logs.push({ level: 'info', message, attributes }),
      warn: (message, attributes) => logs.push({ level: 'warn', message, attributes }),
      error: (message, attributes) => logs.push({ level: 'error', message, attributes }),
    },
    ...overrides,
  };
  return { deps, queued, logs, signingSecrets };
}

function signed(body: string, header = signStripePayload(body, TEST_SIGNING_SECRET, T)) {
  return { headers: { 'Stripe-Signature': header }, rawBody: Buffer.from(body) };
}

describe('handlePaymentWebhook', () => {
  it('queues the grant and answers 200 {"received":true}', async () => {
    const { deps, queued, logs } = fakes();

    const response = await handlePaymentWebhook(signed(stripeEventBody({ id: 'evt_a', created: T })), deps);

    expect(response).toEqual({ statusCode: 200, headers: { 'content-type': 'application/json' }, body: '{"received":true}' });
    expect(queued).toEqual([
      {
        action: 'grant',
        eventId: 'evt_a',
        eventType: 'checkout.session.completed',
        eventCreated: T,
        purchaserId: 'user-1',
        stripeRefs: ['sub_Pfuser1', 'cus_Pfuser1'],
        entitlement: 'premium_features',
      },
    ]);
    expect(logs).toEqual([
      {
        level: 'info',
        message: 'payment event queued',
        attributes: {
          eventId: 'evt_a',
          eventType: 'checkout.session.completed',
          apiVersion: '2026-10-28.endive',
          action: 'grant',
          purchaserNamed: true,
          stripeRefs: ['sub_Pfuser1', 'cus_Pfuser1'],
        },
      },
    ]);
  });

  it('refuses a missing or malformed header without loading the secret', async () => {
    const { deps, signingSecrets } = fakes();
    const body = stripeEventBody();

    const missing = await handlePaymentWebhook({ headers: {}, rawBody: Buffer.from(body) }, deps);
    const malformed = await handlePaymentWebhook(signed(body, 't=1,v1=zz'), deps);

    expect([missing.statusCode, malformed.statusCode]).toEqual([401, 401]);
    expect(signingSecrets).not.toHaveBeenCalled();
  });

  it('verifies before parsing: an unsigned malformed body is 401, not 400', async () => {
    const { deps } = fakes();
    const body = '{"id": ';

    const response = await handlePaymentWebhook(signed(body, signStripePayload(body, 'whsec_other', T)), deps);

    expect(response.statusCode).toBe(401);
    expect(JSON.parse(response.body)).toMatchObject({ error: { code: 'WEBHOOK_SIGNATURE_MISMATCH' } });
  });

  it('answers 500 WEBHOOK_SECRET_UNAVAILABLE naming the cause code when the secret cannot be loaded', async () => {
    const { deps, queued, logs } = fakes({
      signingSecrets: async () => {
        throw new SecretError('SECRET_FETCH_FAILED', 'cannot get secret x from secrets manager: AccessDeniedException');
      },
    });

    const response = await handlePaymentWebhook(signed(stripeEventBody()), deps);

    expect(response.statusCode).toBe(500);
    expect(JSON.parse(response.body)).toEqual({
      error: { code: 'WEBHOOK_SECRET_UNAVAILABLE', message: 'cannot load the webhook signing secret: SECRET_FETCH_FAILED' },
    });
    expect(queued).toEqual([]);
    expect(logs.map((l) => [l.level, l.message])).toEqual([['error', 'payment webhook failed']]);
  });

  it('answers 500 WEBHOOK_QUEUE_FAILED when the queue refuses, even with an untyped error', async () => {
    const { deps } = fakes({
      enqueue: async () => {
        throw Object.assign(new Error('socket hang up'), { name: 'TimeoutError' });
      },
    });

    const response = await handlePaymentWebhook(signed(stripeEventBody({ id: 'evt_q' })), deps);

    expect(response.statusCode).toBe(500);
    expect(JSON.parse(response.body)).toEqual({
      error: { code: 'WEBHOOK_QUEUE_FAILED', message: 'cannot queue event evt_q: TimeoutError' },
    });
  });

  it('never throws: an unexpected failure is 500 WEBHOOK_INTERNAL without its message', async () => {
    const { deps } = fakes({
      now: () => {
        throw new TypeError(`leaky ${TEST_SIGNING_SECRET}`);
      },
    });

    const response = await handlePaymentWebhook(signed(stripeEventBody()), deps);

    expect(response.statusCode).toBe(500);
    expect(JSON.parse(response.body)).toEqual({
      error: { code: 'WEBHOOK_INTERNAL', message: 'unexpected TypeError while handling the webhook' },
    });
  });

  it('logs a rejection as a warning with its code and reason', async () => {
    const { deps, logs } = fakes();

    await handlePaymentWebhook({ headers: {}, rawBody: Buffer.from('{}') }, deps);

    expect(logs).toEqual([
      {
        level: 'warn',
        message: 'payment webhook rejected',
        attributes: {
          code: 'WEBHOOK_SIGNATURE_MISSING',
          reason: 'request must carry a stripe-signature header',
          statusCode: 401,
        },
      },
    ]);
  });
});

describe('handleApiGatewayPaymentWebhook', () => {
  it('answers 400 WEBHOOK_REQUEST_INVALID for an event that is not from API Gateway', async () => {
    const { deps } = fakes();

    const response = await handleApiGatewayPaymentWebhook({ Records: [] }, deps);

    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body)).toMatchObject({ error: { code: 'WEBHOOK_REQUEST_INVALID' } });
  });
});

describe('WebhookError', () => {
  it('maps client mistakes to 4xx and our own failures to 5xx', () => {
    expect(new WebhookError('WEBHOOK_EVENT_INVALID', 'x').statusCode).toBe(400);
    expect(new WebhookError('WEBHOOK_SIGNATURE_MISMATCH', 'x').statusCode).toBe(401);
    expect(new WebhookError('WEBHOOK_QUEUE_FAILED', 'x').statusCode).toBe(500);
  });
});
