/**
 * The events the invoke CLI sends when none is given: what each function's trigger would send in
 * the most ordinary case.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { EventBridgeEvent } from 'aws-lambda';
import { LOCAL_ACCOUNT_ID } from './sqs-event.js';
import { signedDelivery } from './webhook-delivery.js';

/** A fresh Stripe event id, so each default delivery is a new payment rather than a duplicate. */
export function freshStripeEventId(): string {
  return `evt_local${Date.now().toString(36)}${randomBytes(4).toString('hex')}`;
}

/** The sample Stripe events of the newest API version (test/fixtures/events/stripe/latest/). */
const SAMPLES = new URL('../fixtures/events/stripe/latest/', import.meta.url);

/**
 * The sample Stripe event `name` (e.g. `invoice.paid`) as a new event: a fresh id and `created`
 * now (plus `afterSeconds`), so it is neither a duplicate nor older than what earlier runs applied.
 * Everything else is the sample's, in the shape Stripe sends.
 */
export function freshSampleEvent(name: string, afterSeconds = 0): string {
  const event = JSON.parse(readFileSync(new URL(`${name}.json`, SAMPLES), 'utf8')) as Record<string, unknown>;
  return JSON.stringify({ ...event, id: freshStripeEventId(), created: Math.floor(Date.now() / 1000) + afterSeconds }, null, 2);
}

/**
 * The sample `checkout.session.completed` (a subscription bought by `user-1`, named in
 * `client_reference_id`) as a fresh event, in an API Gateway v2 event signed now under `secret`.
 */
export function checkoutCompletedDelivery(secret: string) {
  return signedDelivery(freshSampleEvent('checkout.session.completed'), secret);
}

/** The sample renewal `invoice.paid` (the user only in the subscription's metadata on the invoice), fresh and signed. */
export function renewalPaidDelivery(secret: string, afterSeconds = 1) {
  return signedDelivery(freshSampleEvent('invoice.paid', afterSeconds), secret);
}

/** The direct-invoke request of get-user-info. */
export function userInfoRequest(userId = 'user-1'): { userId: string } {
  return { userId };
}

/** What an EventBridge schedule rule delivers (`rate(5 minutes)`). */
export function scheduledEvent(region: string, now = new Date()): EventBridgeEvent<'Scheduled Event', Record<string, never>> {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: LOCAL_ACCOUNT_ID,
    time: now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region,
    resources: [`arn:aws:events:${region}:${LOCAL_ACCOUNT_ID}:rule/mesh-health-schedule`],
    detail: {},
  };
}
