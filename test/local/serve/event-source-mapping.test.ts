import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startLocalSqs, type LocalSqs } from '../local-sqs.js';
import { EventSourceMapping, failedIdsOf } from './event-source-mapping.js';
import { FunctionPool } from './function-pool.js';
import { InvocationHistory } from './invocation-history.js';
import { localMappedQueue } from './mapped-queue.js';

const BATCH_HANDLER = new URL('../../fixtures/handlers/batch-handler.ts', import.meta.url).href;

let dir: string;
let sqs: LocalSqs;
let pool: FunctionPool;
let history: InvocationHistory;
let mapping: EventSourceMapping | undefined;
let failures: { messageId: string; reason: string; receiveCount: number }[];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'esm-'));
  sqs = await startLocalSqs({ dir });
  sqs.createQueue('work-dlq');
  sqs.createQueue('work', { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: sqs.queueArn('work-dlq'), maxReceiveCount: 2 }) });
  history = new InvocationHistory();
  pool = new FunctionPool({ name: 'batch', modulePath: BATCH_HANDLER, timeoutSeconds: 5, memoryMb: 128, env: { ...process.env }, region: 'us-east-1' }, history);
  failures = [];
});

afterEach(async () => {
  await mapping?.stop();
  mapping = undefined;
  await pool.close();
  await sqs.close();
  await rm(dir, { recursive: true, force: true });
});

function startMapping(options: { batchSize?: number; windowSeconds?: number; visibilitySeconds?: number; disabled?: boolean } = {}) {
  mapping = new EventSourceMapping({
    queue: localMappedQueue(sqs, 'work', 'work-dlq'),
    pool,
    batchSize: options.batchSize ?? 10,
    maxBatchingWindowSeconds: options.windowSeconds ?? 0,
    visibilityTimeoutSeconds: options.visibilitySeconds ?? 1,
    pollIntervalMs: 50,
    onRecordFailed: (messageId, reason, receiveCount) => failures.push({ messageId, reason, receiveCount }),
    onError: (error) => {
      throw error;
    },
  });
  mapping.enabled = !options.disabled;
  mapping.start();
}

const send = (bodies: object[]) => sqs.store.send('work', bodies.map((b) => ({ body: JSON.stringify(b) })));
const counts = () => sqs.store.attributes('work');

describe('the local SQS event source mapping', () => {
  it('delivers what is queued as one batch within the batching window, then deletes it', async () => {
    send([{ n: 1 }, { n: 2 }, { n: 3 }]);

    startMapping({ windowSeconds: 1, visibilitySeconds: 30 });
    await expect.poll(() => history.recent().find((r) => r.state !== 'running'), { timeout: 15_000 }).toBeDefined();

    const [invocation] = history.recent();
    expect(invocation).toMatchObject({ trigger: 'sqs', detail: '3 record(s) from work', state: 'succeeded', summary: 'batchItemFailures: 0' });
    await expect.poll(() => counts().ApproximateNumberOfMessagesNotVisible, { timeout: 10_000 }).toBe('0');
    expect(counts().ApproximateNumberOfMessages).toBe('0');
  });

  it('splits what is queued into batches of batchSize', async () => {
    send([{ n: 1 }, { n: 2 }, { n: 3 }]);

    startMapping({ batchSize: 2 });
    await expect.poll(() => history.recent().filter((r) => r.state === 'succeeded').length, { timeout: 15_000 }).toBe(2);

    expect(history.recent().map((r) => r.detail).sort()).toEqual(['1 record(s) from work', '2 record(s) from work']);
  });

  it('redelivers a failed record after the visibility timeout and dead-letters it after maxReceiveCount, keeping its reason', async () => {
    // Prepare
    const [bad] = send([{ fail: true }, { ok: true }]);

    // Act
    startMapping({ visibilitySeconds: 1 });
    await expect.poll(() => sqs.store.queue('work-dlq').messages.length, { timeout: 20_000 }).toBe(1);

    // Assess
    expect(sqs.store.queue('work-dlq').messages[0]!.messageId).toBe(bad!.messageId);
    expect(failures.map((f) => f.receiveCount)).toEqual([1, 2]);
    expect(failures[0]).toMatchObject({ messageId: bad!.messageId, reason: `GRANT_TEST_POISON: record ${bad!.messageId} cannot succeed` });
    expect(sqs.store.queue('work').messages).toEqual([]);
  });

  it('fails the whole batch when the function throws, and every record comes back', async () => {
    send([{ throw: true }, { ok: true }]);

    startMapping({ visibilitySeconds: 30 });
    await expect.poll(() => failures.length, { timeout: 15_000 }).toBe(2);

    expect(failures.map((f) => f.reason)).toEqual(['Error: the whole batch failed', 'Error: the whole batch failed']);
    expect(counts().ApproximateNumberOfMessagesNotVisible).toBe('2');
  });

  it('treats a response naming a record outside the batch as a failure of the whole batch, as Lambda does', () => {
    const records = [{ messageId: 'a' }, { messageId: 'b' }] as never[];

    expect(failedIdsOf({ batchItemFailures: [{ itemIdentifier: 'zzz' }] }, records)).toBeUndefined();
    expect(failedIdsOf({ batchItemFailures: [{ itemIdentifier: '' }] }, records)).toBeUndefined();
    expect(failedIdsOf({ batchItemFailures: [{ itemIdentifier: 'b' }] }, records)).toEqual(new Set(['b']));
    expect(failedIdsOf(null, records)).toEqual(new Set());
    expect(failedIdsOf({ batchItemFailures: [] }, records)).toEqual(new Set());
  });

  it('polls nothing while disabled (UpdateEventSourceMapping Enabled=false) and resumes when enabled', async () => {
    send([{ n: 1 }]);

    startMapping({ disabled: true });
    await new Promise((resolve) => setTimeout(resolve, 400));
    const whileDisabled = history.recent().length;
    mapping!.enabled = true;
    await expect.poll(() => history.recent().filter((r) => r.state === 'succeeded').length, { timeout: 15_000 }).toBe(1);

    expect(whileDisabled).toBe(0);
  });
});
