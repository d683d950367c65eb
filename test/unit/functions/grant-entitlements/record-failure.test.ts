import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { PoisonedRecordError } from '../../../../functions/grant-entitlements/grant-record.js';
import { QUEUE_BACKOFF_DEFAULTS } from '../../../../functions/grant-entitlements/queue-backoff.js';
import { handleRecordFailure, type RecordFailureDeps } from '../../../../functions/grant-entitlements/record-failure.js';
import { queueUrlOfArn, sqsRecordVisibility } from '../../../../functions/grant-entitlements/record-visibility.js';
import { MeshCallError } from '../../../../shared/errors.js';
import { startLocalSqs, type LocalSqs } from '../../../local/local-sqs.js';

const QUEUE = 'entitlement-commands';
const breakerOpen = new MeshCallError('MESH_BREAKER_OPEN', 'circuit breaker for contact-service is open', { service: 'contact-service', method: 'GetUserInfo' });
const poisoned = new PoisonedRecordError('GRANT_RECORD_NOT_JSON', 'record m-1 body is not JSON', 'm-1');

let dir: string;
let sqs: LocalSqs;
let client: SQSClient;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'record-failure-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
beforeEach(async () => {
  sqs = await startLocalSqs({ dir: await mkdtemp(join(dir, 'q-')) });
  client = new SQSClient({ endpoint: sqs.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  // The queue's own visibility timeout, as the stack sets it (6 × 60 s + 1 s).
  sqs.createQueue(QUEUE, { VisibilityTimeout: '361' });
});
afterEach(async () => {
  client.destroy();
  await sqs.close();
});

/** Sends one message and receives it `receives` times (each after it became visible again), as Lambda's poller does. */
function receivedRecord(receives = 1): SQSRecord {
  sqs.store.send(QUEUE, [{ body: '{"x":1}' }]);
  let record: SQSRecord | undefined;
  for (let i = 0; i < receives; i += 1) {
    if (record) sqs.store.changeVisibility(QUEUE, record.receiptHandle, 0);
    [record] = sqs.drain(QUEUE);
  }
  if (!record) throw new Error('no message received');
  return record;
}

function deps(overrides: Partial<RecordFailureDeps> = {}): RecordFailureDeps {
  return {
    backoff: QUEUE_BACKOFF_DEFAULTS,
    setVisibility: sqsRecordVisibility(client, { AWS_ENDPOINT_URL_SQS: sqs.endpoint }),
    logger: { warn: vi.fn(), error: vi.fn() },
    random: () => 0.5,
    ...overrides,
  };
}

/** Whether the message is visible `seconds` from now, by the emulator's own clock. */
function visibleAfter(seconds: number): boolean {
  return Number(sqs.store.attributes(QUEUE, Date.now() + seconds * 1000).ApproximateNumberOfMessages) === 1;
}

describe('handleRecordFailure', () => {
  it('holds a record whose breaker is open back for the backoff of its receive count', async () => {
    // Prepare
    const record = receivedRecord(3);

    // Act
    const outcome = await handleRecordFailure(record, breakerOpen, deps());

    // Assess
    expect(outcome).toEqual({ disposition: 'wait', receiveCount: 3, visibilitySeconds: 240 });
    expect(visibleAfter(235)).toBe(false);
    expect(visibleAfter(245)).toBe(true);
  });

  it('makes a poisoned record visible at once, so it reaches the DLQ in seconds', async () => {
    // Prepare
    const record = receivedRecord();
    const logger = { warn: vi.fn(), error: vi.fn() };

    // Act
    const outcome = await handleRecordFailure(record, poisoned, deps({ logger }));

    // Assess
    expect(outcome).toEqual({ disposition: 'poisoned', receiveCount: 1, visibilitySeconds: 0 });
    expect(visibleAfter(0)).toBe(true);
    expect(logger.error).toHaveBeenCalledWith('poisoned record: it will reach the DLQ', expect.objectContaining({ messageId: record.messageId }));
  });

  it('leaves the queue\'s visibility timeout to other failures', async () => {
    // Prepare
    const record = receivedRecord();

    // Act
    const outcome = await handleRecordFailure(record, new Error('write failed'), deps());

    // Assess
    expect(outcome).toEqual({ disposition: 'retry', receiveCount: 1 });
    expect(visibleAfter(300)).toBe(false);
    expect(visibleAfter(362)).toBe(true);
  });

  it('changes no visibility at all when backoff is switched off (today\'s design)', async () => {
    // Prepare
    const record = receivedRecord();
    const setVisibility = vi.fn();

    // Act
    const waited = await handleRecordFailure(record, breakerOpen, deps({ backoff: { ...QUEUE_BACKOFF_DEFAULTS, enabled: false }, setVisibility }));
    const failedFast = await handleRecordFailure(record, poisoned, deps({ backoff: { ...QUEUE_BACKOFF_DEFAULTS, enabled: false }, setVisibility }));

    // Assess
    expect([waited.visibilitySeconds, failedFast.visibilitySeconds]).toEqual([undefined, undefined]);
    expect(setVisibility).not.toHaveBeenCalled();
  });

  it('logs a failed ChangeMessageVisibility and leaves the record to the queue\'s timeout', async () => {
    // Prepare: the receipt handle of an earlier receive is no longer valid.
    const record = receivedRecord();
    sqs.store.changeVisibility(QUEUE, record.receiptHandle, 0);
    sqs.drain(QUEUE);
    const logger = { warn: vi.fn(), error: vi.fn() };

    // Act
    const outcome = await handleRecordFailure(record, breakerOpen, deps({ logger }));

    // Assess
    expect(outcome).toEqual({ disposition: 'wait', receiveCount: 1 });
    expect(logger.warn).toHaveBeenLastCalledWith(expect.stringMatching(/^cannot change the record's visibility/), expect.objectContaining({ messageId: record.messageId }));
  });
});

describe('queueUrlOfArn', () => {
  it('builds SQS\'s own URL from the event source ARN', () => {
    expect(queueUrlOfArn('arn:aws:sqs:eu-central-1:123456789012:PaymentFunctions-EntitlementQueue-AbC', {})).toBe(
      'https://sqs.eu-central-1.amazonaws.com/123456789012/PaymentFunctions-EntitlementQueue-AbC',
    );
    expect(queueUrlOfArn('arn:aws-cn:sqs:cn-north-1:123456789012:q', {})).toBe('https://sqs.cn-north-1.amazonaws.com.cn/123456789012/q');
  });

  it('puts the queue under AWS_ENDPOINT_URL_SQS (or AWS_ENDPOINT_URL), as emulators name queues', () => {
    expect(queueUrlOfArn('arn:aws:sqs:us-east-1:000000000000:q', { AWS_ENDPOINT_URL_SQS: 'http://127.0.0.1:9324/' })).toBe('http://127.0.0.1:9324/000000000000/q');
    expect(queueUrlOfArn('arn:aws:sqs:us-east-1:000000000000:q', { AWS_ENDPOINT_URL: 'http://localhost:4566' })).toBe('http://localhost:4566/000000000000/q');
  });

  it('rejects what is not an SQS queue ARN, naming it', () => {
    expect(() => queueUrlOfArn('arn:aws:sns:us-east-1:123456789012:topic', {})).toThrow(/got "arn:aws:sns:us-east-1:123456789012:topic"/);
  });
});
