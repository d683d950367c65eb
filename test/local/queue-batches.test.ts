import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startLocalSqs, type LocalSqs } from './local-sqs.js';
import { localQueueBatches, sqsQueueBatches, type QueueBatches } from './queue-batches.js';

let dir: string;
let sqs: LocalSqs;
let client: SQSClient;
let queueUrl: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'queue-batches-'));
  sqs = await startLocalSqs({ dir, region: 'eu-west-1' });
  queueUrl = sqs.createQueue('entitlements');
  client = new SQSClient({ endpoint: sqs.endpoint, region: 'eu-west-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  for (const body of ['a', 'b', 'c']) {
    await client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body, MessageAttributes: { eventId: { DataType: 'String', StringValue: `evt_${body}` } } }));
  }
});

afterEach(async () => {
  client.destroy();
  await sqs.close();
  await rm(dir, { recursive: true, force: true });
});

describe.each([
  ['any SQS queue, through the SDK', () => sqsQueueBatches(queueUrl, client)],
  ['the local queue, from its store', () => localQueueBatches(sqs, 'entitlements')],
] as [string, () => QueueBatches][])('batches of %s', (_, batchesOf) => {
  it('receive every visible message as one Lambda batch event', async () => {
    const event = await batchesOf().receive();

    expect(event.Records.map((r) => r.body)).toEqual(['a', 'b', 'c']);
    expect(event.Records[0]).toMatchObject({
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:eu-west-1:000000000000:entitlements',
      awsRegion: 'eu-west-1',
      attributes: { ApproximateReceiveCount: '1' },
      messageAttributes: { eventId: { stringValue: 'evt_a', dataType: 'String' } },
    });
  });

  it('delete what the handler did not fail, and leave the failures in flight', async () => {
    const batches = batchesOf();
    const event = await batches.receive();

    await batches.settle(event, { batchItemFailures: [{ itemIdentifier: event.Records[2]!.messageId }] });

    const left = sqs.store.queue('entitlements').messages;
    expect(left.map((m) => m.body)).toEqual(['c']);
    expect(left[0]!.visibleAt).toBeGreaterThan(Date.now());
  });

  it('delete the whole batch for an empty failure list, as Lambda reads it', async () => {
    const batches = batchesOf();
    const event = await batches.receive();

    await batches.settle(event, { batchItemFailures: [] });

    expect(sqs.store.queue('entitlements').messages).toEqual([]);
  });
});
