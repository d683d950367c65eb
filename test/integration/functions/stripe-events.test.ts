/**
 * Stripe events as Stripe sends them, end to end through the real handlers: payment-webhook (SQS
 * mocked at the SDK, feeding the SQS model) → queue → grant-entitlements → get-user-info, on the
 * local mesh (reference contact-service over mTLS) and dynalite. The sample events are the files
 * under test/fixtures/events/stripe/, in the newest and the 2023-10-16 shapes.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { UserView } from '../../../functions/get-user-info/get-user-info.js';
import { createEntitlementsTable } from '../../../shared/entitlements/entitlements-table.js';
import { startFunctionEnvironment, type FunctionEnvironment } from '../../fixtures/function-environment.js';
import { charge, checkoutSession, entitlementSummary, invoice, stripeEventOf, subscription } from '../../fixtures/stripe-objects.js';
import { nowSeconds, signedWebhookEvent, TEST_SIGNING_SECRET } from '../../fixtures/stripe.js';
import { auditedLogs, coldStart, context, loggedErrorCodes } from '../../reliability/harness.js';
import { drainQueue, sendMessageInto, SimulatedSqs } from '../../reliability/simulated-sqs.js';

const QUEUE_URL = 'https://sqs.us-east-1.amazonaws.com/000000000000/entitlement-commands';
const SAMPLES = fileURLToPath(new URL('../../fixtures/events/stripe/', import.meta.url));

const sqs = mockClient(SQSClient);
let env: FunctionEnvironment;
let base: NodeJS.ProcessEnv;
let queue: SimulatedSqs;
let tables = 0;
const logs = auditedLogs();

beforeAll(async () => {
  env = await startFunctionEnvironment({ QUEUE_URL, WEBHOOK_SIGNING_SECRET: TEST_SIGNING_SECRET });
  base = { ...process.env };
});
beforeEach(() => {
  queue = new SimulatedSqs({ visibilityTimeoutMs: 300 });
  sqs.on(SendMessageCommand).callsFake(sendMessageInto(queue));
});
afterAll(async () => {
  sqs.restore();
  await env.close();
});

/** The three functions, cold-started on a table of their own, with `env` on top of the base. */
async function functions(extraEnv: Record<string, string> = {}) {
  const table = `stripe-events-${++tables}`;
  await createEntitlementsTable(env.dynamo.client, table);
  const settings = { ENTITLEMENTS_TABLE: table, ...extraEnv };
  const webhook = await coldStart('webhook', base, settings);
  const grant = await coldStart('grant', base, settings);
  const userInfo = await coldStart('userInfo', base, settings);
  return {
    /** Delivers `event` signed now; answers the HTTP status. */
    deliver: async (event: Record<string, unknown>) => (await webhook(signedWebhookEvent('v2', JSON.stringify(event, null, 2)), context())).statusCode,
    drain: () => drainQueue(queue, (e) => grant(e, context()), { maxWaitMs: 10_000 }),
    /** `userId`'s entitlements as get-user-info answers, by name. */
    rights: async (userId: string) => {
      const view = (await userInfo({ userId }, context())) as UserView;
      return Object.fromEntries(view.entitlements.map((e) => [e.name, e.status]));
    },
    view: async (userId: string) => (await userInfo({ userId }, context())) as UserView,
  };
}

async function sample(shape: string, name: string): Promise<Record<string, unknown>> {
  return JSON.parse(await readFile(join(SAMPLES, shape, `${name}.json`), 'utf8')) as Record<string, unknown>;
}

// user-2 is in user-1's family: every grant reaches them. [sample, premium_features, family_storage, priority_support]
const LIFE: [string, string | undefined, string | undefined, string | undefined][] = [
  ['checkout.session.completed', 'granted', undefined, undefined],
  ['customer.subscription.created', 'granted', undefined, undefined],
  ['invoice.paid', 'granted', undefined, undefined],
  ['invoice.payment_failed', 'granted', undefined, undefined],
  ['customer.subscription.updated.past-due', 'granted', undefined, undefined],
  ['customer.subscription.updated.unpaid', 'revoked', undefined, undefined],
  ['customer.subscription.updated.active', 'granted', undefined, undefined],
  ['charge.refunded.partial', 'granted', undefined, undefined],
  ['charge.refunded', 'revoked', undefined, undefined],
  ['checkout.session.async_payment_failed', 'revoked', undefined, undefined],
  ['checkout.session.async_payment_succeeded', 'revoked', 'granted', undefined],
  ['charge.dispute.created', 'revoked', 'revoked', undefined],
  ['entitlements.active_entitlement_summary.updated', 'granted', 'revoked', 'granted'],
  ['customer.subscription.deleted', 'revoked', 'revoked', 'granted'],
];

describe.each(['latest', '2023-10-16'])('a whole subscription life in the %s shape', (shape) => {
  it('every event is answered 200 and leaves the family with what README says, step by step', async () => {
    const fns = await functions();
    for (const [name, premium, storage, support] of LIFE) {
      expect([name, await fns.deliver(await sample(shape, name))]).toEqual([name, 200]);
      await fns.drain();
      expect(queue.deadLetters).toEqual([]);
      const rights = await fns.rights('user-2');
      expect([name, rights['premium_features'], rights['family_storage'], rights['priority_support']]).toEqual([name, premium, storage, support]);
    }
  });
});

describe('purchasers that events do not name', () => {
  it('a refund for a customer nobody linked fails GRANT_PURCHASER_UNRESOLVED on every receive and ends in the DLQ', async () => {
    const fns = await functions();
    const refund = stripeEventOf({ id: 'evt_PfOrphanRefund', type: 'charge.refunded', created: nowSeconds(), object: charge({ customer: 'cus_PfNobody', paymentIntent: null }) });

    expect(await fns.deliver(refund)).toBe(200);
    await fns.drain();

    expect(queue.deadLetters.map((m) => m.receiveCount)).toEqual([5]);
    const messageId = queue.deadLetters[0]!.messageId;
    expect(loggedErrorCodes(logs.logs(), messageId)).toEqual(Array(5).fill('GRANT_PURCHASER_UNRESOLVED'));
    const line = logs.logs().find((l) => l['messageId'] === messageId)!;
    expect((line['error'] as { message: string }).message).toContain('cus_PfNobody');
  });

  it('a refund delivered before the checkout that links its customer is retried, then applies', async () => {
    const fns = await functions();
    const t = nowSeconds() - 60;
    const checkout = stripeEventOf({ id: 'evt_PfLateCheckout', type: 'checkout.session.completed', created: t, object: checkoutSession({ customer: 'cus_PfLate', subscription: 'sub_PfLate', clientReferenceId: 'user-solo' }) });
    const refund = stripeEventOf({ id: 'evt_PfEarlyRefund', type: 'charge.refunded', created: t + 30, object: charge({ customer: 'cus_PfLate', paymentIntent: null }) });

    expect(await fns.deliver(refund)).toBe(200);
    const first = queue.receive(10);
    const grant = await coldStart('grant', base, { ENTITLEMENTS_TABLE: `stripe-events-${tables}` });
    const failed = await grant({ Records: first }, context());
    expect(failed.batchItemFailures).toHaveLength(1);
    queue.settle(first, failed.batchItemFailures);
    expect(await fns.deliver(checkout)).toBe(200);
    await fns.drain();

    expect(queue.deadLetters).toEqual([]);
    expect(await fns.rights('user-solo')).toEqual({ premium_features: 'revoked' });
  });
});

describe('settings', () => {
  it('STRIPE_ENTITLEMENT_MAP names the entitlement from the price lookup_key', async () => {
    const fns = await functions({ STRIPE_ENTITLEMENT_MAP: '{"premium_monthly": "premium_plus"}' });
    const created = stripeEventOf({ id: 'evt_PfMapped', type: 'customer.subscription.created', created: nowSeconds(), object: subscription({ customer: 'cus_PfSolo', id: 'sub_PfSolo', metadata: { user_id: 'user-solo' }, lookupKey: 'premium_monthly' }) });

    expect(await fns.deliver(created)).toBe(200);
    await fns.drain();

    expect(await fns.rights('user-solo')).toEqual({ premium_plus: 'granted' });
  });

  it('STRIPE_REVOKE_ON_REFUND=false lets a full refund change nothing', async () => {
    const fns = await functions({ STRIPE_REVOKE_ON_REFUND: 'false' });
    const t = nowSeconds();
    await fns.deliver(stripeEventOf({ id: 'evt_PfKeepPaid', type: 'invoice.paid', created: t - 10, object: invoice({ customer: 'cus_PfKeep', subscription: 'sub_PfKeep', subscriptionMetadata: { user_id: 'user-1' } }) }));
    await fns.deliver(stripeEventOf({ id: 'evt_PfKeepRefund', type: 'charge.refunded', created: t, object: charge({ customer: 'cus_PfKeep' }) }));
    await fns.drain();

    expect(await fns.rights('user-3')).toEqual({ premium_features: 'granted' });
  });

  it('STRIPE_PAST_DUE_GRACE_SECONDS keeps a past-due subscription only until the grace ends, read as revoked after', async () => {
    const fns = await functions({ STRIPE_PAST_DUE_GRACE_SECONDS: '3600' });
    const pastDue = (id: string, userId: string, created: number) =>
      stripeEventOf({ id, type: 'customer.subscription.updated', created, object: subscription({ id: `sub_Pf${userId.replace('-', '')}`, customer: `cus_Pf${userId.replace('-', '')}`, status: 'past_due', metadata: { user_id: userId } }) });
    const now = nowSeconds();

    await fns.deliver(pastDue('evt_PfGraceRecent', 'user-solo', now - 60));
    await fns.deliver(pastDue('evt_PfGraceOver', 'user-50', now - 7200));
    await fns.drain();

    const recent = (await fns.view('user-solo')).entitlements;
    expect(recent).toEqual([{ name: 'premium_features', status: 'granted', grantedAt: expect.any(String), expiresAt: new Date((now - 60 + 3600) * 1000).toISOString() }]);
    expect((await fns.view('member-50-01')).entitlements).toEqual([
      { name: 'premium_features', status: 'revoked', grantedAt: null, expiresAt: new Date((now - 7200 + 3600) * 1000).toISOString() },
    ]);
  });
});

describe('Stripe Entitlements summaries', () => {
  it('make the family hold exactly the listed features, whatever order the summaries arrive in', async () => {
    const fns = await functions();
    const t = nowSeconds() - 100;
    const checkout = stripeEventOf({ id: 'evt_PfSumCheckout', type: 'checkout.session.completed', created: t, object: checkoutSession({ customer: 'cus_PfSum', subscription: 'sub_PfSum', clientReferenceId: 'user-solo', metadata: { entitlement: 'base_plan' } }) });
    const summary = (id: string, created: number, lookupKeys: string[]) =>
      stripeEventOf({ id, type: 'entitlements.active_entitlement_summary.updated', created, object: entitlementSummary({ customer: 'cus_PfSum', lookupKeys }) });

    await fns.deliver(checkout);
    await fns.drain();
    // The newest summary first, then two older ones: the newest must still win.
    await fns.deliver(summary('evt_PfSum3', t + 30, ['storage']));
    await fns.deliver(summary('evt_PfSum1', t + 10, ['storage', 'support']));
    await fns.deliver(summary('evt_PfSum2', t + 20, ['support', 'analytics']));
    await fns.drain();

    expect(queue.deadLetters).toEqual([]);
    expect(await fns.rights('user-solo')).toEqual({ analytics: 'revoked', base_plan: 'granted', storage: 'granted', support: 'revoked' });
  });
});
