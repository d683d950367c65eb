/**
 * The part of Lambda's SQS event source mapping the invoke CLI plays: receive what the queue
 * holds as one batch event for grant-entitlements, then delete the records the handler did not
 * report in `batchItemFailures`. Failed records, and every record of a batch whose handler threw,
 * stay in flight until the queue's visibility timeout, and then are received again, as in AWS.
 */
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchItemFailure, SQSEvent, SQSRecord } from 'aws-lambda';
import type { LocalSqs } from './local-sqs.js';
import { queueArnOf, sqsEvent, sqsRecordFromMessage } from './sqs-event.js';

export interface QueueBatches {
  /** Where the batch comes from, for the CLI's progress lines. */
  readonly description: string;
  /** Receives the messages visible now, up to `maxRecords`, as one batch event. */
  receive(maxRecords?: number): Promise<SQSEvent>;
  /** Deletes the records of `event` that `response` does not list as failures. */
  settle(event: SQSEvent, response: unknown): Promise<void>;
}

/** How many records one invoke takes at most (SQS receives at most 10 per call). */
const DEFAULT_MAX_RECORDS = 100;

function failuresOf(response: unknown): SQSBatchItemFailure[] {
  const failures = (response as { batchItemFailures?: unknown } | null)?.batchItemFailures;
  return Array.isArray(failures) ? (failures as SQSBatchItemFailure[]) : [];
}

function succeeded(event: SQSEvent, response: unknown): SQSRecord[] {
  const failed = new Set(failuresOf(response).map((f) => f.itemIdentifier));
  return event.Records.filter((r) => !failed.has(r.messageId));
}

/** Batches of the local emulator's queue `name`, read from its store directly. */
export function localQueueBatches(sqs: LocalSqs, name: string): QueueBatches {
  return {
    description: `local queue ${name} (${sqs.store.file})`,
    receive: async (maxRecords = DEFAULT_MAX_RECORDS) => sqsEvent(sqs.drain(name, { max: maxRecords })),
    settle: async (event, response) => sqs.settle(name, event.Records, failuresOf(response)),
  };
}

/** Batches of any SQS queue (AWS or an emulator), through the SDK client configured by the environment. */
export function sqsQueueBatches(queueUrl: string, client: SQSClient = new SQSClient({})): QueueBatches {
  return {
    description: `queue ${queueUrl}`,
    async receive(maxRecords = DEFAULT_MAX_RECORDS) {
      const queueArn = queueArnOf(queueUrl, await client.config.region());
      const records: SQSRecord[] = [];
      while (records.length < maxRecords) {
        const { Messages = [] } = await client.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: Math.min(10, maxRecords - records.length),
            WaitTimeSeconds: records.length === 0 ? 1 : 0,
            MessageSystemAttributeNames: ['All'],
            MessageAttributeNames: ['All'],
          }),
        );
        if (Messages.length === 0) break;
        records.push(...Messages.map((m) => sqsRecordFromMessage(m, queueArn)));
      }
      return sqsEvent(records);
    },
    async settle(event, response) {
      const done = succeeded(event, response);
      for (let at = 0; at < done.length; at += 10) {
        const entries = done.slice(at, at + 10).map((r, i) => ({ Id: `r${at + i}`, ReceiptHandle: r.receiptHandle }));
        await client.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
      }
    },
  };
}
