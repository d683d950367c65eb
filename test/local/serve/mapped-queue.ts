/**
 * The queue an event source mapping reads, and what the console shows of it: the local emulator
 * (read through its store, so the console sees its dead-letter queue too) or any SQS queue the
 * environment names (`QUEUE_URL`, through the SDK, without a dead-letter view).
 */
import { DeleteMessageBatchCommand, GetQueueAttributesCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import type { LocalSqs } from '../local-sqs.js';
import { wireMessage } from '../sqs-json-protocol.js';
import { queueArnOf, sqsRecordFromMessage } from '../sqs-event.js';

export interface QueueCounts {
  visible: number;
  inFlight: number;
  delayed: number;
}

export interface DeadLetter {
  messageId: string;
  body: string;
  receiveCount: number;
  sentAt: string;
}

export interface MappedQueue {
  readonly url: string;
  /** Receives up to `max` (at most 10) visible messages as Lambda records, hiding them for `visibilityTimeoutSeconds`. */
  receive(max: number, visibilityTimeoutSeconds: number): Promise<SQSRecord[]>;
  /** Deletes the records (their receipt handles). */
  delete(records: readonly SQSRecord[]): Promise<void>;
  counts(): Promise<QueueCounts>;
  /** The dead-letter queue's messages, when it can be read. */
  deadLetters?(): Promise<DeadLetter[]>;
  /** Moves every dead letter back to the queue; resolves with how many moved. */
  redrive?(): Promise<number>;
}

/** The local emulator's queue `name`, with its dead-letter queue `deadLetterName`. */
export function localMappedQueue(sqs: LocalSqs, name: string, deadLetterName: string): MappedQueue {
  const arn = sqs.queueArn(name);
  return {
    url: sqs.queueUrl(name),
    async receive(max, visibilityTimeoutSeconds) {
      const messages = sqs.store.receive(name, { max: Math.min(10, max), visibilityTimeoutSeconds });
      return messages.map((m) => sqsRecordFromMessage(wireMessage(m, ['All'], ['All']), arn));
    },
    async delete(records) {
      for (const record of records) sqs.store.delete(name, record.receiptHandle);
    },
    async counts() {
      const attributes = sqs.store.attributes(name);
      return {
        visible: Number(attributes.ApproximateNumberOfMessages),
        inFlight: Number(attributes.ApproximateNumberOfMessagesNotVisible),
        delayed: Number(attributes.ApproximateNumberOfMessagesDelayed),
      };
    },
    async deadLetters() {
      return sqs.store.queue(deadLetterName).messages.map((m) => ({
        messageId: m.messageId,
        body: m.body,
        receiveCount: m.receiveCount,
        sentAt: new Date(m.sentTimestamp).toISOString(),
      }));
    },
    async redrive() {
      return sqs.store.moveMessages(deadLetterName, name);
    },
  };
}

/** Any SQS queue, through `client` (configured by the environment, as the functions' clients are). */
export function sdkMappedQueue(client: SQSClient, url: string, region: string): MappedQueue {
  const arn = queueArnOf(url, region);
  return {
    url,
    async receive(max, visibilityTimeoutSeconds) {
      const { Messages = [] } = await client.send(
        new ReceiveMessageCommand({
          QueueUrl: url,
          MaxNumberOfMessages: Math.min(10, max),
          VisibilityTimeout: visibilityTimeoutSeconds,
          WaitTimeSeconds: 1,
          MessageSystemAttributeNames: ['All'],
          MessageAttributeNames: ['All'],
        }),
      );
      return Messages.map((m) => sqsRecordFromMessage(m, arn));
    },
    async delete(records) {
      for (let at = 0; at < records.length; at += 10) {
        const entries = records.slice(at, at + 10).map((r, i) => ({ Id: `r${at + i}`, ReceiptHandle: r.receiptHandle }));
        await client.send(new DeleteMessageBatchCommand({ QueueUrl: url, Entries: entries }));
      }
    },
    async counts() {
      const { Attributes = {} } = await client.send(
        new GetQueueAttributesCommand({
          QueueUrl: url,
          AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'],
        }),
      );
      return {
        visible: Number(Attributes.ApproximateNumberOfMessages ?? 0),
        inFlight: Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0),
        delayed: Number(Attributes.ApproximateNumberOfMessagesDelayed ?? 0),
      };
    },
  };
}
