import type { APIGatewayProxyEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { handleApiGatewayPaymentWebhook } from '../../functions/payment-webhook/payment-webhook.js';
import { nowSeconds, signedWebhookEvent, stripeEvent, stripeEventBody, TEST_SIGNING_SECRET } from '../fixtures/stripe.js';
import checkoutFixture from '../fixtures/events/payment-webhook.checkout-completed.json' with { type: 'json' };
import stripeFixture from '../fixtures/events/stripe/latest/checkout.session.completed.json' with { type: 'json' };
import { prepareWebhookEvent, resignEvent, signatureAgeSeconds, signingSecretFrom } from './webhook-delivery.js';

/** What payment-webhook answers to `event` when it accepts only `secret`. */
async function statusOf(event: unknown, secret = TEST_SIGNING_SECRET): Promise<number> {
  const deps = { signingSecrets: async () => [secret], enqueue: async () => undefined, now: () => Date.now() };
  return (await handleApiGatewayPaymentWebhook(event, deps)).statusCode;
}

const HOUR = 3600;

describe('prepareWebhookEvent', () => {
  it('wraps a bare stripe event in an api gateway v2 event the webhook accepts', async () => {
    const { event, note } = prepareWebhookEvent(stripeEvent({ userId: 'user-1' }), { secret: TEST_SIGNING_SECRET });

    expect(note).toMatch(/wrapped/);
    expect(event).toMatchObject({ version: '2.0', routeKey: 'POST /webhooks/payments' });
    expect(await statusOf(event)).toBe(200);
  });

  it('leaves a signature within the tolerance as it is', () => {
    const event = signedWebhookEvent('v2', stripeEventBody(), { t: nowSeconds() - 60 });

    const prepared = prepareWebhookEvent(event, { secret: TEST_SIGNING_SECRET });

    expect(prepared.event).toBe(event);
    expect(prepared.note).toBeUndefined();
  });

  it('re-signs a stale signature so a stored sample is accepted again', async () => {
    // Prepare
    const stale = signedWebhookEvent('v2', stripeEventBody(), { t: nowSeconds() - 2 * HOUR });

    // Act
    const { event, warning } = prepareWebhookEvent(stale, { secret: TEST_SIGNING_SECRET });

    // Assess: re-signed, and a warning says the function would have refused it as stored.
    expect(await statusOf(stale)).toBe(401);
    expect(warning).toMatch(/Stripe-Signature is 7200 s old, beyond the 300 s tolerance: payment-webhook refuses it \(401, WEBHOOK_TIMESTAMP_OUT_OF_TOLERANCE\)\. It was RE-SIGNED NOW/);
    expect(warning).toContain('--no-resign');
    expect(await statusOf(event)).toBe(200);
    expect((event as typeof stale).body).toBe(stale.body);
  });

  it('keeps a stale signature with --no-resign, so expiry itself can be tried', async () => {
    const stale = signedWebhookEvent('v2', stripeEventBody(), { t: nowSeconds() - 2 * HOUR });

    const { event } = prepareWebhookEvent(stale, { secret: TEST_SIGNING_SECRET, resign: 'never' });

    expect(event).toBe(stale);
  });

  it('re-signs a fresh signature under another secret only with --resign', async () => {
    const other = signedWebhookEvent('v2', stripeEventBody(), { secret: 'whsec_someoneelse' });

    const auto = prepareWebhookEvent(other, { secret: TEST_SIGNING_SECRET });
    const always = prepareWebhookEvent(other, { secret: TEST_SIGNING_SECRET, resign: 'always' });

    expect(await statusOf(auto.event)).toBe(401);
    expect(await statusOf(always.event)).toBe(200);
  });

  it('refuses to sign without a literal secret, saying what to set', () => {
    const stale = signedWebhookEvent('v2', stripeEventBody(), { t: nowSeconds() - 2 * HOUR });

    expect(() => prepareWebhookEvent(stale, { secret: undefined })).toThrow(/set WEBHOOK_SIGNING_SECRET/);
  });

  it('sends an event without a signature, or not from api gateway, unchanged', () => {
    const unsigned = signedWebhookEvent('v2', stripeEventBody(), { signature: '' });
    delete (unsigned.headers as Record<string, string>)['stripe-signature'];

    expect(prepareWebhookEvent(unsigned, { secret: TEST_SIGNING_SECRET }).event).toBe(unsigned);
    expect(prepareWebhookEvent({ hello: 'world' }, { secret: TEST_SIGNING_SECRET }).event).toEqual({ hello: 'world' });
  });

  it('keeps the stored samples deliverable: both fixture forms are accepted after preparation', async () => {
    const fromApiGateway = prepareWebhookEvent(structuredClone(checkoutFixture), { secret: TEST_SIGNING_SECRET, resign: 'always' });
    const fromStripe = prepareWebhookEvent(structuredClone(stripeFixture), { secret: TEST_SIGNING_SECRET });

    expect(await statusOf(fromApiGateway.event)).toBe(200);
    expect(await statusOf(fromStripe.event)).toBe(200);
  });
});

describe('resignEvent', () => {
  it('signs the decoded bytes of a base64 body and updates a v1 event\'s multiValueHeaders', async () => {
    const event = signedWebhookEvent('v1', stripeEventBody(), { base64: true, t: nowSeconds() - 2 * HOUR }) as APIGatewayProxyEvent;

    const resigned = resignEvent(event, TEST_SIGNING_SECRET);

    expect(await statusOf(resigned)).toBe(200);
    expect(resigned.multiValueHeaders['Stripe-Signature']).toEqual([resigned.headers['Stripe-Signature']]);
    expect(signatureAgeSeconds(resigned)).toBeLessThanOrEqual(1);
  });
});

describe('signingSecretFrom', () => {
  it('takes the first secret of a rotation list or of the json form', () => {
    expect(signingSecretFrom('whsec_a, whsec_b')).toBe('whsec_a');
    expect(signingSecretFrom('{"signingSecret":"whsec_c"}')).toBe('whsec_c');
    expect(() => signingSecretFrom('nope')).toThrow(/starting with whsec/);
  });
});
