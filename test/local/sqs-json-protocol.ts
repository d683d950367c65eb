/**
 * The SQS JSON protocol as the AWS SDK v3 client speaks it (`POST /`, `X-Amz-Target:
 * AmazonSQS.<Operation>`, `application/x-amz-json-1.0`), answered from a {@link LocalSqsStore}.
 * Errors are answered as SQS does in its query-compatible JSON mode: `__type` in the body and the
 * query code in `x-amzn-query-error`, so the SDK throws its named exceptions (`QueueDoesNotExist`).
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Message } from '@aws-sdk/client-sqs';
import { LocalSqsError, type LocalSqsStore, type SendInput, type StoredMessage } from './local-sqs-store.js';
import { md5OfMessageAttributes, type SqsMessageAttribute } from './sqs-checksums.js';
import { LOCAL_ACCOUNT_ID } from './sqs-event.js';

export type SqsOperation = (input: Record<string, unknown>) => Promise<unknown> | unknown;

/** Answers one HTTP request with the operation its `X-Amz-Target` names. */
export async function serveSqsRequest(request: IncomingMessage, response: ServerResponse, operations: Record<string, SqsOperation>) {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const target = String(request.headers['x-amz-target'] ?? '');
  const operation = operations[target.replace(/^AmazonSQS\./, '')];
  const headers = { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': randomUUID() };
  try {
    if (!target.startsWith('AmazonSQS.') || operation === undefined) {
      throw new LocalSqsError('UnsupportedOperation', 'AWS.SimpleQueueService.UnsupportedOperation', `unsupported operation: ${target || '(none)'}`);
    }
    const input = chunks.length ? (JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>) : {};
    const output = (await operation(input)) ?? {};
    response.writeHead(200, headers).end(JSON.stringify(output));
  } catch (error) {
    const known =
      error instanceof LocalSqsError
        ? error
        : new LocalSqsError('InvalidParameterValue', 'InvalidParameterValue', error instanceof Error ? error.message : String(error));
    response
      .writeHead(400, { ...headers, 'x-amzn-query-error': `${known.queryCode};Sender` })
      .end(JSON.stringify({ __type: `com.amazonaws.sqs#${known.code}`, message: known.message }));
  }
}

export interface QueueNaming {
  queueUrl(name: string): string;
  queueArn(name: string): string;
  closed: AbortSignal;
}

/** The operations by name; each takes and returns the JSON protocol's shapes. */
export function sqsOperations(store: LocalSqsStore, naming: QueueNaming): Record<string, SqsOperation> {
  return {
    CreateQueue: (input) => {
      const name = required(input, 'QueueName');
      store.createQueue(name, (input.Attributes as Record<string, string> | undefined) ?? {});
      return { QueueUrl: naming.queueUrl(name) };
    },
    GetQueueUrl: (input) => {
      const name = required(input, 'QueueName');
      store.queue(name);
      return { QueueUrl: naming.queueUrl(name) };
    },
    GetQueueAttributes: (input) => {
      const name = queueName(input);
      const all = { ...store.attributes(name), QueueArn: naming.queueArn(name) };
      const wanted = (input.AttributeNames as string[] | undefined) ?? [];
      const Attributes = wanted.includes('All') ? all : Object.fromEntries(Object.entries(all).filter(([k]) => wanted.includes(k)));
      return { Attributes };
    },
    SendMessage: (input) => {
      const [result] = store.send(queueName(input), [sendInput(input)]);
      return wireSendResult(result!);
    },
    SendMessageBatch: (input) => {
      const entries = batchEntries(input);
      const results = store.send(queueName(input), entries.map(sendInput));
      return { Successful: results.map((r, i) => ({ Id: entries[i]!.Id, ...wireSendResult(r) })), Failed: [] };
    },
    ReceiveMessage: async (input) => {
      const name = queueName(input);
      const waitSeconds = Number(input.WaitTimeSeconds ?? store.queue(name).attributes.ReceiveMessageWaitTimeSeconds ?? 0);
      const until = Date.now() + waitSeconds * 1000;
      const options = {
        max: Number(input.MaxNumberOfMessages ?? 1),
        ...(input.VisibilityTimeout === undefined ? {} : { visibilityTimeoutSeconds: Number(input.VisibilityTimeout) }),
      };
      let messages = store.receive(name, options);
      while (messages.length === 0 && Date.now() < until && !naming.closed.aborted) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        messages = store.receive(name, options);
      }
      const system = [...((input.MessageSystemAttributeNames as string[]) ?? []), ...((input.AttributeNames as string[]) ?? [])];
      const custom = (input.MessageAttributeNames as string[] | undefined) ?? [];
      return { Messages: messages.map((m) => wireMessage(m, system, custom)) };
    },
    DeleteMessage: (input) => {
      store.delete(queueName(input), required(input, 'ReceiptHandle'));
      return {};
    },
    DeleteMessageBatch: (input) => {
      const name = queueName(input);
      const entries = batchEntries(input);
      for (const entry of entries) store.delete(name, required(entry, 'ReceiptHandle'));
      return { Successful: entries.map((e) => ({ Id: e.Id })), Failed: [] };
    },
    ChangeMessageVisibility: (input) => {
      store.changeVisibility(queueName(input), required(input, 'ReceiptHandle'), Number(input.VisibilityTimeout ?? 0));
      return {};
    },
    SetQueueAttributes: (input) => {
      store.setAttributes(queueName(input), (input.Attributes as Record<string, string> | undefined) ?? {});
      return {};
    },
    PurgeQueue: (input) => {
      store.purge(queueName(input));
      return {};
    },
  };
}

function required(input: Record<string, unknown>, key: string): string {
  const value = input[key];
  if (typeof value !== 'string' || value === '') {
    throw new LocalSqsError('MissingParameter', 'MissingParameter', `the request must contain the parameter ${key}`);
  }
  return value;
}

/** The queue a request names by URL: the last path segment, whatever host and port the URL has. */
function queueName(input: Record<string, unknown>): string {
  return new URL(required(input, 'QueueUrl')).pathname.split('/').filter(Boolean).pop() ?? '';
}

function batchEntries(input: Record<string, unknown>): (Record<string, unknown> & { Id: string })[] {
  const entries = (input.Entries as (Record<string, unknown> & { Id: string })[] | undefined) ?? [];
  if (entries.length === 0) throw new LocalSqsError('EmptyBatchRequest', 'AWS.SimpleQueueService.EmptyBatchRequest', 'the batch request does not contain any entries');
  if (entries.length > 10) throw new LocalSqsError('TooManyEntriesInBatchRequest', 'AWS.SimpleQueueService.TooManyEntriesInBatchRequest', 'a batch holds at most 10 entries');
  if (new Set(entries.map((e) => e.Id)).size !== entries.length) {
    throw new LocalSqsError('BatchEntryIdsNotDistinct', 'AWS.SimpleQueueService.BatchEntryIdsNotDistinct', 'two or more batch entries have the same id');
  }
  return entries;
}

function sendInput(input: Record<string, unknown>): SendInput {
  const send: SendInput = { body: required(input, 'MessageBody') };
  if (input.DelaySeconds !== undefined) send.delaySeconds = Number(input.DelaySeconds);
  if (input.MessageAttributes !== undefined) send.messageAttributes = input.MessageAttributes as Record<string, SqsMessageAttribute>;
  if (typeof input.MessageGroupId === 'string') send.messageGroupId = input.MessageGroupId;
  if (typeof input.MessageDeduplicationId === 'string') send.messageDeduplicationId = input.MessageDeduplicationId;
  return send;
}

function wireSendResult(result: { messageId: string; md5OfBody: string; md5OfMessageAttributes?: string; sequenceNumber?: string }) {
  return {
    MessageId: result.messageId,
    MD5OfMessageBody: result.md5OfBody,
    ...(result.md5OfMessageAttributes ? { MD5OfMessageAttributes: result.md5OfMessageAttributes } : {}),
    ...(result.sequenceNumber ? { SequenceNumber: result.sequenceNumber } : {}),
  };
}

/** A received message as ReceiveMessage answers it, with the requested attributes only. */
export function wireMessage(message: StoredMessage, systemNames: string[], customNames: string[]): Message {
  const system: Record<string, string | undefined> = {
    SenderId: LOCAL_ACCOUNT_ID,
    SentTimestamp: String(message.sentTimestamp),
    ApproximateReceiveCount: String(message.receiveCount),
    ApproximateFirstReceiveTimestamp: String(message.firstReceiveTimestamp ?? message.sentTimestamp),
    SequenceNumber: message.sequenceNumber,
    MessageGroupId: message.messageGroupId,
    MessageDeduplicationId: message.messageDeduplicationId,
  };
  const attributes = Object.fromEntries(
    Object.entries(system).filter(([k, v]) => v !== undefined && (systemNames.includes('All') || systemNames.includes(k))),
  ) as Record<string, string>;
  const custom = Object.fromEntries(Object.entries(message.messageAttributes).filter(([k]) => attributeWanted(k, customNames)));
  const md5OfAttributes = md5OfMessageAttributes(custom);
  return {
    MessageId: message.messageId,
    ReceiptHandle: message.receiptHandle ?? '',
    MD5OfBody: message.md5OfBody,
    Body: message.body,
    ...(Object.keys(attributes).length ? { Attributes: attributes } : {}),
    ...(md5OfAttributes ? { MessageAttributes: custom as Message['MessageAttributes'], MD5OfMessageAttributes: md5OfAttributes } : {}),
  };
}

/** `All` and `.*` select every attribute; `prefix.*` a prefix; otherwise exact names. */
function attributeWanted(name: string, wanted: string[]): boolean {
  return wanted.some((w) => w === 'All' || w === '.*' || w === name || (w.endsWith('.*') && name.startsWith(w.slice(0, -1))));
}
