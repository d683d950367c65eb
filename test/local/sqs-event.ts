/**
 * SQS messages as Lambda's SQS event source mapping hands them to a function: the
 * `{ Records: [...] }` batch event, with camel-cased fields, string attributes and base64 binary
 * values, whatever queue (local emulator or AWS) the messages were received from.
 */
import type { Message } from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSMessageAttributes, SQSRecord, SQSRecordAttributes } from 'aws-lambda';

/** The account id local queues live in; any twelve digits do. */
export const LOCAL_ACCOUNT_ID = '000000000000';

/** `arn:aws:sqs:<region>:<account>:<name>` for a queue URL `https://…/<account>/<name>`. */
export function queueArnOf(queueUrl: string, region: string): string {
  const [account = LOCAL_ACCOUNT_ID, name = ''] = new URL(queueUrl).pathname.split('/').filter(Boolean).slice(-2);
  return `arn:aws:sqs:${region}:${account}:${name}`;
}

/** The region of an ARN (`arn:aws:sqs:<region>:…`). */
function regionOf(arn: string): string {
  return arn.split(':')[3] ?? '';
}

/**
 * The Lambda record of a message received with every system attribute and every message
 * attribute (`MessageSystemAttributeNames: ['All'], MessageAttributeNames: ['All']`).
 */
export function sqsRecordFromMessage(message: Message, queueArn: string): SQSRecord {
  const attributes = message.Attributes ?? {};
  const messageAttributes: SQSMessageAttributes = {};
  for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
    const binary = value.BinaryValue as Uint8Array | string | undefined;
    messageAttributes[name] = {
      ...(value.StringValue === undefined ? {} : { stringValue: value.StringValue }),
      ...(binary === undefined ? {} : { binaryValue: typeof binary === 'string' ? binary : Buffer.from(binary).toString('base64') }),
      stringListValues: [],
      binaryListValues: [],
      dataType: value.DataType ?? 'String',
    };
  }
  const record: SQSRecord = {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes: {
      ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? '1',
      SentTimestamp: attributes.SentTimestamp ?? String(Date.now()),
      SenderId: attributes.SenderId ?? LOCAL_ACCOUNT_ID,
      ApproximateFirstReceiveTimestamp: attributes.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
      ...pick(attributes, ['SequenceNumber', 'MessageGroupId', 'MessageDeduplicationId', 'AWSTraceHeader']),
    },
    messageAttributes,
    md5OfBody: message.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: regionOf(queueArn),
  };
  if (message.MD5OfMessageAttributes !== undefined) record.md5OfMessageAttributes = message.MD5OfMessageAttributes;
  return record;
}

/** The batch event of `records`. */
export function sqsEvent(records: SQSRecord[]): SQSEvent {
  return { Records: records };
}

function pick(attributes: Record<string, string>, names: (keyof SQSRecordAttributes)[]): Partial<SQSRecordAttributes> {
  return Object.fromEntries(names.filter((n) => attributes[n] !== undefined).map((n) => [n, attributes[n]]));
}
