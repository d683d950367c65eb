import { describe, expect, it } from 'vitest';
import type { WebhookError } from '../../../../functions/payment-webhook/webhook-error.js';
import { headerValue, webhookRequestFromApiGateway } from '../../../../functions/payment-webhook/webhook-request.js';
import { apiGatewayV1Event, apiGatewayV2Event } from '../../../fixtures/stripe.js';

// Bytes whose UTF-8 and Latin-1 readings differ, and a byte that is not UTF-8 at all.
const bytes = Buffer.concat([Buffer.from('{"name":"Zoë"}', 'utf8'), Buffer.from([0xff])]);

describe('webhookRequestFromApiGateway', () => {
  it.each([
    ['v1', apiGatewayV1Event],
    ['v2', apiGatewayV2Event],
  ] as const)('decodes a base64 %s body to the exact bytes sent', (_, build) => {
    const request = webhookRequestFromApiGateway(build({ body: bytes, base64: true }));

    expect(request.rawBody.equals(bytes)).toBe(true);
  });

  it.each([
    ['v1', apiGatewayV1Event],
    ['v2', apiGatewayV2Event],
  ] as const)('takes a plain %s body as its UTF-8 bytes', (_, build) => {
    const request = webhookRequestFromApiGateway(build({ body: '{"name":"Zoë"}' }));

    expect(request.rawBody.equals(Buffer.from('{"name":"Zoë"}', 'utf8'))).toBe(true);
  });

  it.each([
    ['v1', apiGatewayV1Event],
    ['v2', apiGatewayV2Event],
  ] as const)('reads a %s event without a body as empty bytes', (_, build) => {
    expect(webhookRequestFromApiGateway(build({ body: null })).rawBody.length).toBe(0);
  });

  it('lower-cases header names', () => {
    const request = webhookRequestFromApiGateway(apiGatewayV1Event({ body: '{}', headers: { 'Stripe-Signature': 'sig' } }));

    expect(request.headers['stripe-signature']).toBe('sig');
  });

  it('prefers v1 multiValueHeaders and joins repeated values with commas', () => {
    const event = apiGatewayV1Event({
      body: '{}',
      headers: { 'Stripe-Signature': 'second' },
      multiValueHeaders: { 'Stripe-Signature': ['first'], 'stripe-signature': ['second'] },
    });

    expect(webhookRequestFromApiGateway(event).headers['stripe-signature']).toBe('first,second');
  });

  it('reads a v1 event whose multiValueHeaders are absent from its headers', () => {
    const event = { ...apiGatewayV1Event({ body: '{}', headers: { 'Stripe-Signature': 'sig' } }), multiValueHeaders: null };

    expect(webhookRequestFromApiGateway(event).headers['stripe-signature']).toBe('sig');
  });

  it.each([
    ['nothing', undefined],
    ['an sqs event', { Records: [] }],
    ['an event without isBase64Encoded', { headers: {}, body: '{}' }],
  ])('refuses %s as WEBHOOK_REQUEST_INVALID', (_, event) => {
    expect(() => webhookRequestFromApiGateway(event)).toThrow(
      expect.objectContaining({ code: 'WEBHOOK_REQUEST_INVALID' }) as unknown as WebhookError,
    );
  });
});

describe('headerValue', () => {
  it('finds a header whatever the case of its name', () => {
    expect(headerValue({ 'Stripe-Signature': 'a' }, 'stripe-signature')).toBe('a');
    expect(headerValue({ 'stripe-signature': 'b' }, 'Stripe-Signature')).toBe('b');
    expect(headerValue({ other: 'c' }, 'stripe-signature')).toBeUndefined();
  });
});
