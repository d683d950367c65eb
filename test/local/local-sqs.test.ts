import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SetQueueAttributesCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { lambdaContext } from '../fixtures/mesh-environment.js';
import { signedWebhookEvent, stripeEventBody, TEST_SIGNING_SECRET } from '../fixtures/stripe.js';
import { startLocalSqs, type LocalSqs } from './local-sqs.js';
import { md5OfMessageAttributes } from './sqs-checksums.js';

let dir: string;
let sqs: LocalSqs;
let client: SQSClient;
let queueUrl: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'local-sqs-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

beforeEach(async () => {
  sqs = await startLocalSqs({ dir: await mkdtemp(join(dir, 'q-')) });
  client = new SQSClient({ endpoint: sqs.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  queueUrl = (await client.send(new CreateQueueCommand({ QueueName: 'entitlements' }))).QueueUrl!;
});

afterEach(async () => {
  client.destroy();
  await sqs.close();
});

const receiveAll = (extra: { VisibilityTimeout?: number; WaitTimeSeconds?: number } = {}) =>
  client.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: 10,
      MessageSystemAttributeNames: ['All'],
      MessageAttributeNames: ['All'],
      ...extra,
    }),
  );

describe('the local SQS, driven by the real AWS SDK client', () => {
  it('creates a queue whose url is on its endpoint, and finds it by name', async () => {
    const found = await client.send(new GetQueueUrlCommand({ QueueName: 'entitlements' }));

    expect(queueUrl).toBe(`${sqs.endpoint}/000000000000/entitlements`);
    expect(found.QueueUrl).toBe(queueUrl);
  });

  it('answers an unknown queue with the SDK\'s QueueDoesNotExist', async () => {
    const missing = client.send(new GetQueueUrlCommand({ QueueName: 'nope' }));

    await expect(missing).rejects.toMatchObject({ name: 'QueueDoesNotExist', $metadata: { httpStatusCode: 400 } });
  });

  it('sends and receives a message with its attributes, passing the SDK\'s MD5 checks', async () => {
    // Prepare
    const attributes = {
      eventType: { DataType: 'String', StringValue: 'checkout.session.completed' },
      raw: { DataType: 'Binary', BinaryValue: new Uint8Array([0, 1, 2, 255]) },
    };

    // Act
    const sent = await client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: '{"ä":1}', MessageAttributes: attributes }));
    const { Messages } = await receiveAll();

    // Assess
    expect(Messages).toHaveLength(1);
    const [message] = Messages!;
    expect(message!.MessageId).toBe(sent.MessageId);
    expect(message!.Body).toBe('{"ä":1}');
    expect(message!.Attributes?.ApproximateReceiveCount).toBe('1');
    expect(message!.MessageAttributes?.eventType?.StringValue).toBe('checkout.session.completed');
    expect(Buffer.from(message!.MessageAttributes!.raw!.BinaryValue!)).toEqual(Buffer.from([0, 1, 2, 255]));
    expect(message!.MD5OfMessageAttributes).toBe(sent.MD5OfMessageAttributes);
  });

  it('digests attributes in the byte layout SQS documents, sorted by name', () => {
    // Expected values computed independently (Python struct + hashlib) from the documented layout:
    // 0x00000001 'a' 0x00000006 'String' 0x01 0x00000001 'b', then the binary attribute with 0x02.
    const stringOnly = md5OfMessageAttributes({ a: { DataType: 'String', StringValue: 'b' } });
    const both = md5OfMessageAttributes({
      bin: { DataType: 'Binary', BinaryValue: Buffer.from([0, 255]).toString('base64') },
      a: { DataType: 'String', StringValue: 'b' },
    });

    expect(stringOnly).toBe('bef8bf215374a0a228d67533b1a488be');
    expect(both).toBe('89f85a897e62495efedbb0190cc45c0e');
    expect(md5OfMessageAttributes({})).toBeUndefined();
  });

  it('hides a received message for the visibility timeout and counts every receive', async () => {
    await client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'once' }));

    const first = await receiveAll({ VisibilityTimeout: 0 });
    const second = await receiveAll({ VisibilityTimeout: 30 });
    const hidden = await receiveAll();

    expect(first.Messages?.[0]?.Attributes?.ApproximateReceiveCount).toBe('1');
    expect(second.Messages?.[0]?.Attributes?.ApproximateReceiveCount).toBe('2');
    expect(hidden.Messages ?? []).toEqual([]);
  });

  it('makes a message visible again on ChangeMessageVisibility and deletes it by receipt handle', async () => {
    await client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'x' }));
    const [received] = (await receiveAll()).Messages!;

    await client.send(new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: received!.ReceiptHandle!, VisibilityTimeout: 0 }));
    const [again] = (await receiveAll()).Messages!;
    await client.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: again!.ReceiptHandle! }));

    const attributes = await client.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['All'] }));
    expect(attributes.Attributes).toMatchObject({ ApproximateNumberOfMessages: '0', ApproximateNumberOfMessagesNotVisible: '0' });
    expect(attributes.Attributes?.QueueArn).toBe('arn:aws:sqs:us-east-1:000000000000:entitlements');
  });

  it('sends and deletes in batches', async () => {
    const sent = await client.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: [
          { Id: 'a', MessageBody: 'one' },
          { Id: 'b', MessageBody: 'two' },
        ],
      }),
    );
    const { Messages = [] } = await receiveAll();
    const deleted = await client.send(
      new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: Messages.map((m, i) => ({ Id: `d${i}`, ReceiptHandle: m.ReceiptHandle! })) }),
    );

    expect(sent.Successful?.map((s) => s.Id)).toEqual(['a', 'b']);
    expect(Messages.map((m) => m.Body)).toEqual(['one', 'two']);
    expect(deleted.Successful).toHaveLength(2);
    expect(sqs.store.queue('entitlements').messages).toEqual([]);
  });

  it('long-polls until a message arrives', async () => {
    const polling = receiveAll({ WaitTimeSeconds: 5 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    await client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'late' }));

    expect((await polling).Messages?.[0]?.Body).toBe('late');
  });

  it('moves a message past the redrive policy\'s receive count to the dead-letter queue', async () => {
    sqs.createQueue('jobs-dlq');
    const jobs = sqs.createQueue('jobs', { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: sqs.queueArn('jobs-dlq'), maxReceiveCount: 2 }) });
    await client.send(new SendMessageCommand({ QueueUrl: jobs, MessageBody: 'poison' }));

    const receive = () => client.send(new ReceiveMessageCommand({ QueueUrl: jobs, VisibilityTimeout: 0 }));
    const counts = [];
    for (let i = 0; i < 3; i++) counts.push((await receive()).Messages?.length ?? 0);

    expect(counts).toEqual([1, 1, 0]);
    expect(sqs.store.queue('jobs-dlq').messages.map((m) => m.body)).toEqual(['poison']);
  });

  it('changes a queue\'s redrive policy with SetQueueAttributes', async () => {
    sqs.createQueue('jobs-dlq');
    const jobs = sqs.createQueue('jobs');

    await client.send(new SetQueueAttributesCommand({ QueueUrl: jobs, Attributes: { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: sqs.queueArn('jobs-dlq'), maxReceiveCount: 1 }) } }));
    await client.send(new SendMessageCommand({ QueueUrl: jobs, MessageBody: 'poison' }));
    await client.send(new ReceiveMessageCommand({ QueueUrl: jobs, VisibilityTimeout: 0 }));
    await client.send(new ReceiveMessageCommand({ QueueUrl: jobs, VisibilityTimeout: 0 }));

    expect(sqs.store.queue('jobs-dlq').messages.map((m) => m.body)).toEqual(['poison']);
  });

  it('redrives dead letters back to their queue, visible at once with a fresh receive count', async () => {
    // Prepare: a message dead-lettered after one receive.
    sqs.createQueue('jobs-dlq');
    const jobs = sqs.createQueue('jobs', { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: sqs.queueArn('jobs-dlq'), maxReceiveCount: 1 }) });
    const sent = await client.send(new SendMessageCommand({ QueueUrl: jobs, MessageBody: 'fixed now' }));
    await client.send(new ReceiveMessageCommand({ QueueUrl: jobs, VisibilityTimeout: 0 }));
    await client.send(new ReceiveMessageCommand({ QueueUrl: jobs, VisibilityTimeout: 0 }));

    // Act
    const moved = sqs.store.moveMessages('jobs-dlq', 'jobs');
    const { Messages = [] } = await client.send(new ReceiveMessageCommand({ QueueUrl: jobs, MessageSystemAttributeNames: ['All'] }));

    // Assess
    expect(moved).toBe(1);
    expect(sqs.store.queue('jobs-dlq').messages).toEqual([]);
    expect(Messages.map((m) => [m.MessageId, m.Body, m.Attributes?.ApproximateReceiveCount])).toEqual([[sent.MessageId, 'fixed now', '1']]);
  });

  it('deduplicates a FIFO queue\'s messages by deduplication id', async () => {
    const fifo = sqs.createQueue('orders.fifo');
    const send = () =>
      client.send(new SendMessageCommand({ QueueUrl: fifo, MessageBody: 'once', MessageGroupId: 'user-1', MessageDeduplicationId: 'evt_1' }));

    const [first, second] = [await send(), await send()];

    expect(second.MessageId).toBe(first.MessageId);
    expect(first.SequenceNumber).toMatch(/^\d{20}$/);
    expect(sqs.store.queue('orders.fifo').messages).toHaveLength(1);
  });

  it('keeps its messages across a restart on the same directory', async () => {
    await client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'durable' }));
    await sqs.close();

    const again = await startLocalSqs({ dir: sqs.store.file.replace(/\/queues\.json$/, '') });
    const records = again.drain('entitlements');
    await again.close();

    expect(records.map((r) => r.body)).toEqual(['durable']);
  });
});

describe('drain and settle', () => {
  it('gives Lambda SQS records and deletes the ones not reported as failures', async () => {
    // Prepare
    for (const body of ['a', 'b', 'c']) {
      await client.send(
        new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body, MessageAttributes: { eventId: { DataType: 'String', StringValue: `evt_${body}` } } }),
      );
    }

    // Act
    const records = sqs.drain('entitlements');
    sqs.settle('entitlements', records, [{ itemIdentifier: records[1]!.messageId }]);

    // Assess
    expect(records).toHaveLength(3);
    expect(records[0]).toMatchObject({
      body: 'a',
      attributes: { ApproximateReceiveCount: '1', SenderId: '000000000000' },
      messageAttributes: { eventId: { stringValue: 'evt_a', dataType: 'String', stringListValues: [], binaryListValues: [] } },
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:entitlements',
      awsRegion: 'us-east-1',
    });
    expect(records[0]!.receiptHandle).not.toBe('');
    expect(records[0]!.md5OfMessageAttributes).toMatch(/^[0-9a-f]{32}$/);
    expect(sqs.store.queue('entitlements').messages.map((m) => m.body)).toEqual(['b']);
  });
});

describe('payment-webhook against the local SQS', () => {
  it('queues the entitlement command through its own SDK client, configured by the environment only', async () => {
    // Prepare: the handler reads its settings at import.
    vi.stubEnv('QUEUE_URL', queueUrl);
    vi.stubEnv('AWS_ENDPOINT_URL_SQS', sqs.endpoint);
    vi.stubEnv('AWS_REGION', 'us-east-1');
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'local');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'local');
    vi.stubEnv('WEBHOOK_SIGNING_SECRET', TEST_SIGNING_SECRET);
    vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'SILENT');
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'true');
    const { handler } = await import('../../functions/payment-webhook/handler.js');
    const event = signedWebhookEvent('v2', stripeEventBody({ id: 'evt_local1', userId: 'user-1' }));

    // Act
    const response = await handler(event, lambdaContext() as never);
    const [record] = sqs.drain('entitlements');
    vi.unstubAllEnvs();

    // Assess
    expect(response).toMatchObject({ statusCode: 200 });
    expect(JSON.parse(record!.body)).toMatchObject({ action: 'grant', eventId: 'evt_local1', purchaserId: 'user-1' });
    expect(record!.messageAttributes.eventType?.stringValue).toBe('checkout.session.completed');
  });
});
