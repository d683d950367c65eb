import { describe, expect, it } from 'vitest';
import { EntitlementCommand } from '../../../../functions/payment-webhook/entitlement-command.js';
import { entitlementCommandFor, parseStripeEvent } from '../../../../functions/payment-webhook/payment-event.js';
import type { WebhookError } from '../../../../functions/payment-webhook/webhook-error.js';
import { stripeEvent, stripeEventBody } from '../../../fixtures/stripe.js';

function commandFor(body: string | Buffer) {
  const { envelope, json } = parseStripeEvent(Buffer.from(body));
  return entitlementCommandFor(envelope, json);
}

function failure(action: () => unknown): { code: string; message: string } {
  try {
    action();
  } catch (error) {
    return { code: (error as WebhookError).code, message: (error as WebhookError).message };
  }
  throw new Error('expected a failure');
}

describe('entitlementCommandFor', () => {
  it.each([
    ['checkout.session.completed', 'grant', ['sub_Pfuser1', 'cus_Pfuser1']],
    ['invoice.paid', 'grant', ['sub_Pfuser1', 'cus_Pfuser1']],
    ['customer.subscription.deleted', 'revoke', ['sub_Pfuser1', 'cus_Pfuser1']],
  ] as const)('maps %s to %s, naming the purchaser and its Stripe objects', (type, action, stripeRefs) => {
    const command = commandFor(stripeEventBody({ id: 'evt_1', type, created: 1_767_225_600, userId: 'user-1' }));

    expect(command).toEqual({
      action,
      eventId: 'evt_1',
      eventType: type,
      eventCreated: 1_767_225_600,
      purchaserId: 'user-1',
      stripeRefs,
      entitlement: 'premium_features',
    });
    expect(EntitlementCommand.parse(command)).toEqual(command);
  });

  it('takes the entitlement from the metadata when it names one', () => {
    expect(commandFor(stripeEventBody({ entitlement: 'family_storage' }))?.entitlement).toBe('family_storage');
  });

  it('ignores other event types, whatever their object holds', () => {
    expect(commandFor(stripeEventBody({ type: 'payment_intent.created', userId: null }))).toBeUndefined();
  });

  it('does not take an inherited property for a handled type', () => {
    expect(commandFor(stripeEventBody({ type: 'constructor', userId: null }))).toBeUndefined();
  });

  it('queues a handled event that names no user, to be resolved through its Stripe objects', () => {
    const command = commandFor(stripeEventBody({ type: 'invoice.paid', userId: null }));

    expect(command).toMatchObject({ action: 'grant', stripeRefs: ['sub_Pfnobody', 'cus_Pfnobody'] });
    expect(command).not.toHaveProperty('purchaserId');
  });

  it('reads an empty user_id as no user', () => {
    expect(commandFor(stripeEventBody({ userId: '' }))).not.toHaveProperty('purchaserId');
  });

  it('names the field when the object is not the type\'s object', () => {
    const event = stripeEvent({ type: 'customer.subscription.updated' });
    delete (event.data as { object: Record<string, unknown> }).object.status;

    expect(failure(() => commandFor(JSON.stringify(event)))).toEqual({
      code: 'WEBHOOK_EVENT_INVALID',
      message: 'stripe event field data.object.status is required',
    });
  });

  it('names data.object when the event has none', () => {
    const event = stripeEvent({ type: 'invoice.paid' });
    delete (event as { data?: unknown }).data;

    expect(failure(() => commandFor(JSON.stringify(event))).message).toBe('stripe event field data.object is required');
  });

  it('names a metadata value that is not a string', () => {
    const event = stripeEvent({ object: { metadata: { user_id: 42 } } });

    expect(failure(() => commandFor(JSON.stringify(event))).message).toBe('stripe event field data.object.metadata.user_id must be a string');
  });
});

describe('parseStripeEvent', () => {
  it.each([
    ['id is missing', { id: undefined }, 'stripe event field id is required'],
    ['id is not an event id', { id: 'cus_1' }, 'stripe event field id must be a stripe event id (evt_…)'],
    ['type is missing', { type: undefined }, 'stripe event field type is required'],
    ['created is missing', { created: undefined }, 'stripe event field created is required'],
    ['created is in milliseconds as a float', { created: 1.5 }, 'stripe event field created must be whole seconds since the epoch'],
    ['created is a string', { created: '1767225600' }, 'stripe event field created must be whole seconds since the epoch'],
  ])('refuses an event whose %s', (_, override, message) => {
    const body = JSON.stringify({ ...stripeEvent(), ...override });

    expect(failure(() => parseStripeEvent(Buffer.from(body)))).toEqual({ code: 'WEBHOOK_EVENT_INVALID', message });
  });

  it.each([
    ['text that is not json', Buffer.from('{"id": "evt_1", '), 'payload must be json'],
    ['json that is not an object', Buffer.from('[1,2]'), 'payload must be a json object (a stripe event)'],
    ['bytes that are not utf-8', Buffer.from([0x7b, 0xff, 0x7d]), 'payload must be utf-8 text'],
    ['an empty body', Buffer.alloc(0), 'payload must be json'],
  ])('refuses %s as WEBHOOK_PAYLOAD_MALFORMED', (_, body, message) => {
    expect(failure(() => parseStripeEvent(body))).toEqual({ code: 'WEBHOOK_PAYLOAD_MALFORMED', message });
  });
});

describe('entitlementCommandFor, for what a signed event carries but the table cannot take', () => {
  it('refuses an entitlement name the table reserves with WEBHOOK_EVENT_INVALID, so Stripe is told 400 rather than retrying', () => {
    expect(failure(() => commandFor(stripeEventBody({ id: 'evt_reserved', entitlement: '#link' })))).toEqual({
      code: 'WEBHOOK_EVENT_INVALID',
      message: 'stripe event evt_reserved: its entitlement must not start with #',
    });
  });
});
