/**
 * The fault matrix, faults in what arrives: poisoned SQS records, forged and replayed webhooks,
 * the same event delivered three times at once to three containers, and a cancellation delivered
 * before its payment. The real payment-webhook handler (SQS mocked at the SDK, feeding the SQS
 * model) and the real grant-entitlements handler against the local mesh and dynalite.
 */
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { EntitlementStore } from '../../shared/entitlements/entitlement-store.js';
import {
  command,
  ENTITLEMENTS_TABLE,
  sqsEvent,
  sqsRecord,
  startFunctionEnvironment,
  type FunctionEnvironment,
} from '../fixtures/function-environment.js';
import {
  apiGatewayV2Event,
  nowSeconds,
  signedWebhookEvent,
  signStripePayload,
  stripeEventBody,
  TEST_SIGNING_SECRET,
} from '../fixtures/stripe.js';
import { auditTheWholeFile, auditedLogs, coldStart, context, outcomesLogged } from './harness.js';
import { drainQueue, sendMessageInto, SimulatedSqs } from './simulated-sqs.js';

const QUEUE_URL = 'https://sqs.us-east-1.amazonaws.com/000000000000/entitlement-commands';
const FAMILY_1 = ['user-1', 'user-2', 'user-3'];
const FAMILY_50 = ['user-50', ...Array.from({ length: 49 }, (_, i) => `member-50-${String(i + 1).padStart(2, '0')}`)];

const sqs = mockClient(SQSClient);
let env: FunctionEnvironment;
let base: NodeJS.ProcessEnv;
let store: EntitlementStore;
let queue: SimulatedSqs;
const logs = auditedLogs();

beforeAll(async () => {
  env = await startFunctionEnvironment({ QUEUE_URL, WEBHOOK_SIGNING_SECRET: TEST_SIGNING_SECRET });
  base = { ...process.env };
  store = new EntitlementStore({ tableName: ENTITLEMENTS_TABLE });
});
beforeEach(() => {
  queue = new SimulatedSqs({ visibilityTimeoutMs: 50 });
  // The webhook's SendMessage lands in the SQS model, attributes and all.
  sqs.on(SendMessageCommand).callsFake(sendMessageInto(queue));
});
afterEach(() => {
  sqs.reset();
  vi.useRealTimers();
});
afterAll(async () => {
  sqs.restore();
  await env.close();
});

async function stateOf(members: readonly string[], name: string) {
  return Promise.all(
    members.map(async (userId) => {
      const entitlement = (await store.list(userId)).find((e) => e.name === name);
      return entitlement && [entitlement.status, entitlement.eventId];
    }),
  );
}

function errorOf(response: APIGatewayProxyResult): { code: string; message: string } {
  return (JSON.parse(response.body) as { error: { code: string; message: string } }).error;
}

describe('fault matrix: what arrives is wrong', () => {
  it('malformed SQS records: each poisoned record ends in the DLQ after 5 receives with its reason logged each time; the good one is granted', async () => {
    const grant = await coldStart('grant', base);
    const good = command({ entitlement: 'beside-poison' });
    const poisoned = {
      GRANT_RECORD_NOT_JSON: queue.send('{"action": "grant", not json'),
      GRANT_RECORD_INVALID: queue.send(JSON.stringify({ action: 'upgrade', eventId: 'evt_1', purchaserId: '' })),
      GRANT_PURCHASER_UNKNOWN: queue.send(JSON.stringify(command({ purchaserId: 'user-nobody', entitlement: 'ghost' }))),
    };
    const goodId = queue.send(JSON.stringify(good));

    await drainQueue(queue, (e) => grant(e, context()), { maxWaitMs: 10_000 });

    expect(queue.depth).toBe(0);
    expect(queue.deadLetters.map((m) => [m.messageId, m.receiveCount]).sort()).toEqual(
      Object.values(poisoned).map((id) => [id, 5]).sort(),
    );
    expect(queue.stats.deleted).toBe(1);
    const errors = logs.logs().filter((l) => l['level'] === 'ERROR');
    for (const [code, messageId] of Object.entries(poisoned)) {
      const lines = errors.filter((l) => l['messageId'] === messageId);
      expect(lines.map((l) => [l['message'], (l['error'] as { code: string }).code, l['receiveCount']])).toEqual(
        [1, 2, 3, 4, 5].map((n) => ['poisoned record: it will reach the DLQ', code, n]),
      );
    }
    expect(errors.map((l) => l['messageId'])).not.toContain(goodId);
    const invalid = errors.find((l) => l['messageId'] === poisoned.GRANT_RECORD_INVALID)!['error'] as { message: string };
    expect(invalid.message).toMatch(/^record sim-\d+ is not an entitlement command: action .*; eventType .*; eventCreated .*; purchaserId /);
    expect(await stateOf(FAMILY_1, 'beside-poison')).toEqual(FAMILY_1.map(() => ['granted', good.eventId]));
  });

  it('forged webhooks: 401 for a missing, malformed, foreign or stale-copied signature and a tampered body; nothing queued', async () => {
    const webhook = await coldStart('webhook', base);
    const body = stripeEventBody({ userId: 'user-1', entitlement: 'forged' });
    const t = nowSeconds();
    const genuine = signStripePayload(body, TEST_SIGNING_SECRET, t);
    const forgeries = {
      missing: apiGatewayV2Event({ body }),
      malformed: apiGatewayV2Event({ body, headers: { 'Stripe-Signature': `t=${t},v1=not-hex` } }),
      'another secret': signedWebhookEvent('v2', body, { secret: 'whsec_attacker0000000000000000000000' }),
      'tampered body': apiGatewayV2Event({ body: body.replace('"user-1"', '"user-3"'), headers: { 'Stripe-Signature': genuine } }),
      'signature moved to another t': apiGatewayV2Event({ body, headers: { 'Stripe-Signature': genuine.replace(`t=${t}`, `t=${t + 1}`) } }),
    };

    const answers: Record<string, [number, string]> = {};
    for (const [name, event] of Object.entries(forgeries)) {
      const response = await webhook(event, context());
      answers[name] = [response.statusCode, errorOf(response).code];
    }

    expect(answers).toEqual({
      missing: [401, 'WEBHOOK_SIGNATURE_MISSING'],
      malformed: [401, 'WEBHOOK_SIGNATURE_MALFORMED'],
      'another secret': [401, 'WEBHOOK_SIGNATURE_MISMATCH'],
      'tampered body': [401, 'WEBHOOK_SIGNATURE_MISMATCH'],
      'signature moved to another t': [401, 'WEBHOOK_SIGNATURE_MISMATCH'],
    });
    expect(queue.stats.sent).toBe(0);
    expect(sqs.commandCalls(SendMessageCommand)).toHaveLength(0);
  });

  it('replayed webhook: a genuine delivery replayed beyond the tolerance is refused with 401 and not queued; one within it takes effect once', async () => {
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
    const webhook = await coldStart('webhook', base);
    const grant = await coldStart('grant', base);
    const body = stripeEventBody({ id: 'evt_replayed0001', userId: 'user-1', entitlement: 'replayed' });
    const delivery = signedWebhookEvent('v2', body); // signed now, as Stripe sent it

    const original = await webhook(delivery, context());
    vi.setSystemTime(Date.now() + 60_000);
    const replayWithin = await webhook(delivery, context());
    vi.setSystemTime(Date.now() + 250_000); // 310 s after signing: beyond the 300 s tolerance
    const replayBeyond = await webhook(delivery, context());

    expect([original.statusCode, replayWithin.statusCode]).toEqual([200, 200]);
    expect(replayBeyond.statusCode).toBe(401);
    expect(errorOf(replayBeyond).code).toBe('WEBHOOK_TIMESTAMP_OUT_OF_TOLERANCE');
    expect(queue.stats.sent).toBe(2); // the original and the replay within tolerance, nothing more

    await drainQueue(queue, (e) => grant(e, context()));

    expect(queue.stats).toMatchObject({ deleted: 2, movedToDlq: 0 });
    expect(await stateOf(FAMILY_1, 'replayed')).toEqual(FAMILY_1.map(() => ['granted', 'evt_replayed0001']));
    const outcomes = outcomesLogged(logs.logs(), 'evt_replayed0001');
    expect([outcomes.applied.sort(), outcomes.duplicate.sort(), outcomes.superseded]).toEqual([FAMILY_1, FAMILY_1, []]);
  });

  it('duplicate delivery ×3 concurrently on three containers: one effect per member', async () => {
    const containers = [await coldStart('grant', base), await coldStart('grant', base), await coldStart('grant', base)];
    const event = command({ purchaserId: 'user-50', entitlement: 'triplicate' });

    const responses = await Promise.all(containers.map((grant) => grant(sqsEvent(sqsRecord(event)), context())));

    expect(responses).toEqual([0, 1, 2].map(() => ({ batchItemFailures: [] })));
    expect(await stateOf(FAMILY_50, 'triplicate')).toEqual(FAMILY_50.map(() => ['granted', event.eventId]));
    const outcomes = outcomesLogged(logs.logs(), event.eventId);
    expect(outcomes.applied.sort()).toEqual([...FAMILY_50].sort()); // each member exactly once
    expect(outcomes.duplicate).toHaveLength(2 * FAMILY_50.length);
    expect(outcomes.superseded).toEqual([]);
  });

  it('cancel before pay: delivered in reverse order through webhook and queue, the family ends revoked', async () => {
    const webhook = await coldStart('webhook', base);
    const grant = await coldStart('grant', base);
    const paidAt = nowSeconds() - 120;
    const pay = stripeEventBody({ id: 'evt_pay0001', type: 'invoice.paid', created: paidAt, userId: 'user-2', entitlement: 'reordered' });
    const cancel = stripeEventBody({
      id: 'evt_cancel0001',
      type: 'customer.subscription.deleted',
      created: paidAt + 60,
      userId: 'user-2',
      entitlement: 'reordered',
    });

    const cancelAnswer = await webhook(signedWebhookEvent('v2', cancel), context());
    await drainQueue(queue, (e) => grant(e, context()));
    const payAnswer = await webhook(signedWebhookEvent('v1', pay), context());
    await drainQueue(queue, (e) => grant(e, context()));

    expect([cancelAnswer.statusCode, payAnswer.statusCode]).toEqual([200, 200]);
    expect(queue.stats).toMatchObject({ sent: 2, deleted: 2, movedToDlq: 0 });
    expect(await stateOf(FAMILY_1, 'reordered')).toEqual(FAMILY_1.map(() => ['revoked', 'evt_cancel0001']));
    expect(outcomesLogged(logs.logs(), 'evt_cancel0001').applied.sort()).toEqual(FAMILY_1);
    const payOutcomes = outcomesLogged(logs.logs(), 'evt_pay0001');
    expect([payOutcomes.applied, payOutcomes.duplicate, payOutcomes.superseded.sort()]).toEqual([[], [], FAMILY_1]);
  });
});

auditTheWholeFile(logs, 50);
