/**
 * The events the invoke CLI sends when none is given: what each function's trigger would send in
 * the most ordinary case.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { EventBridgeEvent } from 'aws-lambda';
import { stripeEventBody } from '../fixtures/stripe.js';
import { LOCAL_ACCOUNT_ID } from './sqs-event.js';
import { signedDelivery } from './webhook-delivery.js';

/** A fresh Stripe event id, so each default delivery is a new payment rather than a duplicate. */
export function freshStripeEventId(): string {
  return `evt_local${Date.now().toString(36)}${randomBytes(4).toString('hex')}`;
}

/** A `checkout.session.completed` paid by `userId`, in an API Gateway v2 event signed now under `secret`. */
export function checkoutCompletedDelivery(secret: string, userId = 'user-1') {
  return signedDelivery(stripeEventBody({ id: freshStripeEventId(), type: 'checkout.session.completed', userId }), secret);
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
