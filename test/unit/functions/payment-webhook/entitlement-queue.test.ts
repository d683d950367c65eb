import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { EntitlementCommand } from '../../../../functions/payment-webhook/entitlement-command.js';
import { sqsEntitlementQueue } from '../../../../functions/payment-webhook/entitlement-queue.js';

const sqs = mockClient(SQSClient);
afterEach(() => sqs.reset());

const client = new SQSClient({ region: 'eu-west-1' });
const QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/entitlements';
const command: EntitlementCommand = {
  action: 'grant',
  eventId: 'evt_1',
  eventType: 'invoice.paid',
  eventCreated: 1_767_225_600,
  purchaserId: 'user-1',
  entitlement: 'premium_features',
};

describe('sqsEntitlementQueue', () => {
  it('sends the command as JSON with eventType and eventId attributes', async () => {
    sqs.on(SendMessageCommand).resolves({ MessageId: 'm-1' });

    await sqsEntitlementQueue(QUEUE_URL, client)(command);

    const input = sqs.commandCalls(SendMessageCommand)[0]?.args[0].input;
    expect(input).toEqual({
      QueueUrl: QUEUE_URL,
      MessageBody: JSON.stringify(command),
      MessageAttributes: {
        eventType: { DataType: 'String', StringValue: 'invoice.paid' },
        eventId: { DataType: 'String', StringValue: 'evt_1' },
      },
    });
    expect(EntitlementCommand.parse(JSON.parse(input?.MessageBody ?? ''))).toEqual(command);
  });

  it('deduplicates by event id and groups by purchaser on a FIFO queue', async () => {
    sqs.on(SendMessageCommand).resolves({ MessageId: 'm-1' });

    await sqsEntitlementQueue(`${QUEUE_URL}.fifo`, client)(command);

    expect(sqs.commandCalls(SendMessageCommand)[0]?.args[0].input).toMatchObject({
      MessageDeduplicationId: 'evt_1',
      MessageGroupId: 'user-1',
    });
  });

  it('reports a refused send as WEBHOOK_QUEUE_FAILED naming the SDK error', async () => {
    sqs.on(SendMessageCommand).rejects(Object.assign(new Error('nope'), { name: 'QueueDoesNotExist' }));

    await expect(sqsEntitlementQueue(QUEUE_URL, client)(command)).rejects.toMatchObject({
      code: 'WEBHOOK_QUEUE_FAILED',
      message: 'cannot queue event evt_1: QueueDoesNotExist',
    });
  });
});
