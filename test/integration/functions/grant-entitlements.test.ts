import { status } from '@grpc/grpc-js';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EntitlementStore } from '../../../shared/entitlements/entitlement-store.js';
import { captureOutput, valuesOf, type CapturedOutput } from '../../fixtures/capture-output.js';
import {
  command,
  ENTITLEMENT_QUEUE,
  ENTITLEMENTS_TABLE,
  sqsEvent,
  sqsRecord,
  startFunctionEnvironment,
  type FunctionEnvironment,
} from '../../fixtures/function-environment.js';
import { auditLogLines } from '../../fixtures/log-audit.js';
import { lambdaContext } from '../../fixtures/mesh-environment.js';

let env: FunctionEnvironment;
let handler: (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;
let store: EntitlementStore;
let output: CapturedOutput | undefined;
const allLines: string[] = [];

beforeAll(async () => {
  env = await startFunctionEnvironment({ CIRCUIT_BREAKER_FAILURE_THRESHOLD: '5' });
  ({ handler } = (await import('../../../functions/grant-entitlements/handler.js')) as unknown as { handler: typeof handler });
  store = new EntitlementStore({ tableName: ENTITLEMENTS_TABLE });
});
afterEach(() => {
  output?.restore();
  allLines.push(...(output?.lines ?? []));
  output = undefined;
  env.mesh.contact.setFault({ kind: 'none' });
});
afterAll(async () => {
  await env.close();
});

function invoke(event: SQSEvent): Promise<SQSBatchResponse> {
  output ??= captureOutput();
  return handler(event, lambdaContext() as unknown as Context);
}

async function statusOf(userId: string, entitlement = 'premium_features') {
  return (await store.list(userId)).find((e) => e.name === entitlement)?.status;
}

describe('grant-entitlements', () => {
  it('grants the entitlement to every member of the purchaser\'s family', async () => {
    const result = await invoke(sqsEvent(sqsRecord(command({ entitlement: 'family_plan' }))));

    expect(result).toEqual({ batchItemFailures: [] });
    for (const member of ['user-1', 'user-2', 'user-3']) expect(await statusOf(member, 'family_plan')).toBe('granted');
    expect(await statusOf('user-50', 'family_plan')).toBeUndefined();
  });

  it('grants a 50-member family once even when the same event is processed three times concurrently', async () => {
    const event = command({ purchaserId: 'user-50', entitlement: 'big_family' });

    const results = await Promise.all([1, 2, 3].map(() => invoke(sqsEvent(sqsRecord(event)))));

    expect(results).toEqual([1, 2, 3].map(() => ({ batchItemFailures: [] })));
    const members = await Promise.all(
      ['user-50', ...Array.from({ length: 49 }, (_, i) => `member-50-${String(i + 1).padStart(2, '0')}`)].map((id) => store.list(id)),
    );
    expect(members.map((m) => m.find((e) => e.name === 'big_family')?.eventId)).toEqual(Array(50).fill(event.eventId));
    const applied = output!.logs().filter((l) => l['eventId'] === event.eventId).map((l) => (l['applied'] as string[]).length);
    expect(applied.reduce((a, b) => a + b, 0)).toBe(50);
  });

  it('ends revoked when the cancel is delivered before the payment', async () => {
    const paidAt = Math.floor(Date.now() / 1000) - 60;
    const pay = command({ entitlement: 'reordered', eventCreated: paidAt });
    const cancel = command({ action: 'revoke', eventType: 'customer.subscription.deleted', entitlement: 'reordered', eventCreated: paidAt + 30 });

    await invoke(sqsEvent(sqsRecord(cancel)));
    await invoke(sqsEvent(sqsRecord(pay)));

    for (const member of ['user-1', 'user-2', 'user-3']) expect(await statusOf(member, 'reordered')).toBe('revoked');
  });

  it('reports exactly the poisoned and the failing record of a batch of 10', async () => {
    const poisoned = sqsRecord('{"action": "grant", not json');
    const failing = sqsRecord(command({ entitlement: 'x'.repeat(2000) })); // DynamoDB refuses the key
    const good = Array.from({ length: 8 }, () => sqsRecord(command({ entitlement: 'batch_of_ten' })));
    const records = [good[0]!, poisoned, ...good.slice(1, 5), failing, ...good.slice(5)];

    const result = await invoke(sqsEvent(...records));

    expect(result.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual([poisoned.messageId, failing.messageId].sort());
    expect(await statusOf('user-2', 'batch_of_ten')).toBe('granted');
    const errors = output!.logs().filter((l) => l.level === 'ERROR' && l['messageId'] === poisoned.messageId);
    expect(errors).toHaveLength(1);
    expect(JSON.stringify(errors[0])).toContain('GRANT_RECORD_NOT_JSON');
  });

  it('counts the grants that took effect in EMF', async () => {
    await invoke(sqsEvent(sqsRecord(command({ entitlement: 'metered' }))));

    const docs = output!.emf().filter((d) => d['entitlement'] === 'metered');
    expect(docs.flatMap((d) => valuesOf(d, 'entitlements_granted_total'))).toEqual([3]);
  });

  it('fails records fast once the contact-service breaker is open, without calling it', async () => {
    env.mesh.contact.setFault({ kind: 'status', code: status.UNAVAILABLE });
    // Two records × up to three attempts open the breaker (5 consecutive transport failures).
    await invoke(sqsEvent(sqsRecord(command()), sqsRecord(command())));
    const before = env.mesh.contact.callCount;
    const startedAt = performance.now();

    const record = sqsRecord(command());
    const result = await invoke(sqsEvent(record));

    expect(result.batchItemFailures).toEqual([{ itemIdentifier: record.messageId }]);
    expect(env.mesh.contact.callCount).toBe(before);
    expect(performance.now() - startedAt).toBeLessThan(500);
    expect(JSON.stringify(output!.logs().filter((l) => l['messageId'] === record.messageId))).toContain('MESH_BREAKER_OPEN');
  });

  it('holds a record whose breaker is open back in the queue with backoff instead of spending its receives', async () => {
    env.mesh.contact.setFault({ kind: 'status', code: status.UNAVAILABLE });
    await invoke(sqsEvent(sqsRecord(command()), sqsRecord(command())));
    env.sqs.store.send(ENTITLEMENT_QUEUE, [{ body: JSON.stringify(command()) }]);
    const [record] = env.sqs.drain(ENTITLEMENT_QUEUE);

    const result = await invoke(sqsEvent(record!));

    expect(result.batchItemFailures).toEqual([{ itemIdentifier: record!.messageId }]);
    // The first receive's backoff is 60 s ± 25 %; the queue's own visibility timeout would be 30 s.
    const visibleAfter = (seconds: number) => Number(env.sqs.store.attributes(ENTITLEMENT_QUEUE, Date.now() + seconds * 1000).ApproximateNumberOfMessages);
    expect(visibleAfter(44)).toBe(0);
    expect(visibleAfter(76)).toBe(1);
    const line = output!.logs().find((l) => l['messageId'] === record!.messageId && l['disposition'] === 'wait');
    expect(line).toMatchObject({ level: 'WARN', receiveCount: 1 });
  });

  it('logs no PEM block, private key, secret or signature in any of the above', () => {
    expect(allLines.length).toBeGreaterThan(5);
    expect(auditLogLines(allLines)).toEqual([]);
  });
});
