/**
 * Order, as a property (fast-check): whole subscription lives (checkout, renewals, a failed
 * payment, past_due, unpaid, reactivation, a refund that names only the customer, cancellation),
 * with events in the same second as often as not, delivered to the real payment-webhook in any
 * order and any number of times, then consumed by two grant-entitlements containers at once. The
 * family's entitlement must end as a model says: the effect of the life's last state-changing event
 * in the store's order (`created`, then revoke over grant, then event id).
 */
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EntitlementStore } from '../../shared/entitlements/entitlement-store.js';
import { compareEventOrder } from '../../shared/entitlements/entitlement-change.js';
import { ENTITLEMENTS_TABLE, startFunctionEnvironment, type FunctionEnvironment } from '../fixtures/function-environment.js';
import { charge, checkoutSession, invoice, stripeEventOf, subscription } from '../fixtures/stripe-objects.js';
import { nowSeconds, signedWebhookEvent, TEST_SIGNING_SECRET } from '../fixtures/stripe.js';
import { auditedLogs, coldStart, context, type GrantHandler, type WebhookHandler } from './harness.js';
import { drainQueue, sendMessageInto, SimulatedSqs } from './simulated-sqs.js';

const QUEUE_URL = 'https://sqs.us-east-1.amazonaws.com/000000000000/entitlement-commands';
const FAMILY_1 = ['user-1', 'user-2', 'user-3'];

/** The steps of a life, and what each does to the entitlement with the default settings. */
const STEPS = {
  checkout: 'grant',
  renewal: 'grant',
  paymentFailed: 'none',
  pastDue: 'none',
  unpaid: 'revoke',
  reactivated: 'grant',
  refunded: 'revoke',
  canceled: 'revoke',
} as const;
type Step = keyof typeof STEPS;

const sqs = mockClient(SQSClient);
let env: FunctionEnvironment;
let base: NodeJS.ProcessEnv;
let webhook: WebhookHandler;
let grants: GrantHandler[];
let store: EntitlementStore;
let lives = 0;
auditedLogs();

beforeAll(async () => {
  env = await startFunctionEnvironment({ QUEUE_URL, WEBHOOK_SIGNING_SECRET: TEST_SIGNING_SECRET, POWERTOOLS_LOG_LEVEL: 'ERROR' });
  base = { ...process.env };
  webhook = await coldStart('webhook', base);
  grants = [await coldStart('grant', base), await coldStart('grant', base)];
  store = new EntitlementStore({ tableName: ENTITLEMENTS_TABLE });
});
afterAll(async () => {
  sqs.restore();
  await env.close();
});

/** The Stripe event of `step` in life `n`, for an entitlement of its own; the refund names only the customer. */
function eventOf(n: number, step: Step, index: number, created: number): Record<string, unknown> {
  const ids = { customer: `cus_PfLife${n}`, sub: `sub_PfLife${n}` };
  const metadata = { user_id: 'user-1', entitlement: `life_${n}` };
  const sub = (status: string) => subscription({ id: ids.sub, customer: ids.customer, status, metadata });
  const renewal = (status: 'paid' | 'open') => invoice({ id: `in_PfLife${n}x${index}`, customer: ids.customer, subscription: ids.sub, subscriptionMetadata: metadata, status });
  const [type, object] = {
    checkout: ['checkout.session.completed', checkoutSession({ customer: ids.customer, subscription: ids.sub, clientReferenceId: 'user-1', metadata: { entitlement: `life_${n}` } })],
    renewal: ['invoice.paid', renewal('paid')],
    paymentFailed: ['invoice.payment_failed', renewal('open')],
    pastDue: ['customer.subscription.updated', sub('past_due')],
    unpaid: ['customer.subscription.updated', sub('unpaid')],
    reactivated: ['customer.subscription.updated', sub('active')],
    refunded: ['charge.refunded', charge({ id: `ch_PfLife${n}x${index}`, customer: ids.customer, paymentIntent: null, metadata: { entitlement: `life_${n}` } })],
    canceled: ['customer.subscription.deleted', sub('canceled')],
  }[step] as [string, Record<string, unknown>];
  return stripeEventOf({ id: `evt_PfLife${n}s${String(index).padStart(2, '0')}`, type, created, object });
}

/** A life: a checkout, then steps, each 0–2 seconds after the one before (so often in the same second). */
const lifeArb = fc.record({
  steps: fc.array(fc.constantFrom(...(Object.keys(STEPS) as Step[]).filter((s) => s !== 'checkout')), { maxLength: 7 }),
  gaps: fc.array(fc.constantFrom(0, 0, 1, 2), { minLength: 8, maxLength: 8 }),
  duplicates: fc.array(fc.nat(), { maxLength: 4 }),
  order: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 12, maxLength: 12 }),
});

describe('a subscription converges to what its newest event says', () => {
  it('for any life, delivered in any order with duplicates, to two containers at once', async () => {
    await fc.assert(
      fc.asyncProperty(lifeArb, async ({ steps, gaps, duplicates, order }) => {
        const n = ++lives;
        const start = nowSeconds() - 3600;
        let created = start;
        const life = (['checkout', ...steps] as Step[]).map((step, i) => {
          created += i === 0 ? 0 : gaps[i]!;
          return { step, eventId: `evt_PfLife${n}s${String(i).padStart(2, '0')}`, created, body: JSON.stringify(eventOf(n, step, i, created), null, 2) };
        });
        // The model: the last state-changing event in the store's order decides.
        const changes = life
          .filter((e) => STEPS[e.step] !== 'none')
          .map((e) => ({ eventId: e.eventId, eventCreated: e.created, action: STEPS[e.step] as 'grant' | 'revoke' }))
          .sort(compareEventOrder);
        const last = changes.at(-1)!;

        const deliveries = [...life, ...duplicates.map((d) => life[d % life.length]!)]
          .map((e, i) => ({ e, key: order[i % order.length]! + i / 1000 }))
          .sort((a, b) => a.key - b.key)
          .map(({ e }) => e);
        // Longer than a batch takes on a loaded machine, or a message would be received twice at once.
        const queue = new SimulatedSqs({ visibilityTimeoutMs: 1_000 });
        sqs.on(SendMessageCommand).callsFake(sendMessageInto(queue));
        for (const delivery of deliveries) {
          const response = await webhook(signedWebhookEvent('v2', delivery.body), context());
          if (response.statusCode !== 200) throw new Error(`webhook answered ${response.statusCode} ${response.body}`);
        }
        let next = 0;
        await drainQueue(queue, (event) => grants[next++ % grants.length]!(event, context()), { concurrency: 2, batchSize: 3, maxWaitMs: 20_000 });

        expect(queue.deadLetters).toEqual([]);
        for (const userId of FAMILY_1) {
          const held = (await store.list(userId)).find((e) => e.name === `life_${n}`);
          expect([userId, held?.status, held?.eventId]).toEqual([userId, last.action === 'grant' ? 'granted' : 'revoked', last.eventId]);
        }
      }),
      { numRuns: 12, seed: 20261202 },
    );
  }, 120_000);
});
