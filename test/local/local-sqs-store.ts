/**
 * The state of the local SQS emulator: queues and their messages in one JSON file, so messages
 * sent by one CLI invocation are received by the next. Every operation reads the file, changes
 * it, and writes it back atomically (temp file + rename), synchronously: operations of one process
 * never interleave, and a reader never sees half a file.
 *
 * SQS semantics kept: visibility timeout and in-flight messages, receive counts, delays, a
 * redrive policy (a message received `maxReceiveCount` times moves to the dead-letter queue on
 * the next receive), FIFO groups (one in-flight batch per group) and five-minute deduplication.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { md5OfBody, md5OfMessageAttributes, type SqsMessageAttribute } from './sqs-checksums.js';

/** An SQS error as the wire carries it: `code` is the `__type` name, `queryCode` the query-API code. */
export class LocalSqsError extends Error {
  readonly code: string;
  readonly queryCode: string;

  constructor(code: string, queryCode: string, message: string) {
    super(message);
    this.name = 'LocalSqsError';
    this.code = code;
    this.queryCode = queryCode;
  }
}

export interface StoredMessage {
  messageId: string;
  body: string;
  md5OfBody: string;
  messageAttributes: Record<string, SqsMessageAttribute>;
  md5OfMessageAttributes?: string;
  sentTimestamp: number;
  receiveCount: number;
  firstReceiveTimestamp?: number;
  /** Epoch ms from which the message can be received (delay, then each visibility timeout). */
  visibleAt: number;
  receiptHandle?: string;
  messageGroupId?: string;
  messageDeduplicationId?: string;
  sequenceNumber?: string;
}

export interface StoredQueue {
  name: string;
  createdTimestamp: number;
  attributes: Record<string, string>;
  messages: StoredMessage[];
  /** FIFO deduplication ids of the last five minutes. */
  deduplication: { id: string; messageId: string; at: number }[];
}

interface StoreState {
  version: 1;
  sequence: number;
  queues: Record<string, StoredQueue>;
}

export interface SendInput {
  body: string;
  delaySeconds?: number;
  messageAttributes?: Record<string, SqsMessageAttribute>;
  messageGroupId?: string;
  messageDeduplicationId?: string;
}

export interface SendResult {
  messageId: string;
  md5OfBody: string;
  md5OfMessageAttributes?: string;
  sequenceNumber?: string;
}

export const QUEUE_ATTRIBUTE_DEFAULTS = {
  VisibilityTimeout: '30',
  DelaySeconds: '0',
  MessageRetentionPeriod: '345600',
  MaximumMessageSize: '262144',
  ReceiveMessageWaitTimeSeconds: '0',
} as const;

const DEDUPLICATION_WINDOW_MS = 5 * 60_000;
const MAX_BATCH = 10;

export const queueDoesNotExist = (name: string) =>
  new LocalSqsError('QueueDoesNotExist', 'AWS.SimpleQueueService.NonExistentQueue', `the specified queue does not exist: ${name}`);

/** A file-backed set of queues; `file` is created on first write. */
export class LocalSqsStore {
  readonly file: string;

  constructor(dir: string) {
    mkdirSync(dir, { recursive: true });
    this.file = join(dir, 'queues.json');
  }

  /** Creates `name` unless it exists (then its attributes are left as they are, as SQS does for equal ones). */
  createQueue(name: string, attributes: Record<string, string> = {}, now = Date.now()): StoredQueue {
    if (!/^[\w-]{1,80}$/.test(name.replace(/\.fifo$/, ''))) {
      throw new LocalSqsError('InvalidParameterValue', 'InvalidParameterValue', `queue name must be 1-80 letters, digits, - or _: ${name}`);
    }
    return this.#mutate((state) => {
      state.queues[name] ??= {
        name,
        createdTimestamp: now,
        attributes: { ...QUEUE_ATTRIBUTE_DEFAULTS, ...(name.endsWith('.fifo') ? { FifoQueue: 'true' } : {}), ...attributes },
        messages: [],
        deduplication: [],
      };
      return structuredClone(state.queues[name]);
    });
  }

  /** The queue named `name`, as stored now. @throws {LocalSqsError} `QueueDoesNotExist`. */
  queue(name: string): StoredQueue {
    const queue = this.#load().queues[name];
    if (!queue) throw queueDoesNotExist(name);
    return queue;
  }

  queueNames(): string[] {
    return Object.keys(this.#load().queues);
  }

  /** Appends messages to `name`. @throws {LocalSqsError} `QueueDoesNotExist`. */
  send(name: string, inputs: SendInput[], now = Date.now()): SendResult[] {
    return this.#mutate((state) => {
      const queue = queueIn(state, name);
      const fifo = queue.attributes.FifoQueue === 'true';
      queue.deduplication = queue.deduplication.filter((d) => now - d.at < DEDUPLICATION_WINDOW_MS);
      return inputs.map((input) => {
        const md5 = { md5OfBody: md5OfBody(input.body), md5OfMessageAttributes: md5OfMessageAttributes(input.messageAttributes) };
        const dedupId = input.messageDeduplicationId;
        const duplicate = fifo && dedupId !== undefined ? queue.deduplication.find((d) => d.id === dedupId) : undefined;
        if (duplicate) return withoutUndefined({ messageId: duplicate.messageId, ...md5 });
        const delay = Number(input.delaySeconds ?? queue.attributes.DelaySeconds ?? 0);
        const message: StoredMessage = withoutUndefined({
          messageId: randomUUID(),
          body: input.body,
          ...md5,
          messageAttributes: input.messageAttributes ?? {},
          sentTimestamp: now,
          receiveCount: 0,
          visibleAt: now + delay * 1000,
          messageGroupId: input.messageGroupId,
          messageDeduplicationId: dedupId,
          sequenceNumber: fifo ? String(++state.sequence).padStart(20, '0') : undefined,
        });
        queue.messages.push(message);
        if (fifo && dedupId !== undefined) queue.deduplication.push({ id: dedupId, messageId: message.messageId, at: now });
        return withoutUndefined({ messageId: message.messageId, ...md5, sequenceNumber: message.sequenceNumber });
      });
    });
  }

  /**
   * Receives up to `max` visible messages and hides them for `visibilityTimeoutSeconds` (the
   * queue's by default), counting the receive. Messages past the redrive policy's
   * `maxReceiveCount` move to the dead-letter queue instead. Returned messages are copies.
   */
  receive(name: string, options: { max?: number; visibilityTimeoutSeconds?: number } = {}, now = Date.now()): StoredMessage[] {
    return this.#mutate((state) => {
      const queue = queueIn(state, name);
      const max = Math.min(options.max ?? 1, MAX_BATCH);
      const visibility = options.visibilityTimeoutSeconds ?? Number(queue.attributes.VisibilityTimeout);
      const redrive = redrivePolicyOf(queue);
      const busyGroups = new Set(
        queue.messages.filter((m) => m.messageGroupId !== undefined && m.visibleAt > now && m.receiveCount > 0).map((m) => m.messageGroupId),
      );
      const received: StoredMessage[] = [];
      for (const message of [...queue.messages]) {
        if (received.length >= max) break;
        if (message.visibleAt > now || busyGroups.has(message.messageGroupId)) continue;
        if (redrive && message.receiveCount >= redrive.maxReceiveCount) {
          queue.messages.splice(queue.messages.indexOf(message), 1);
          queueIn(state, redrive.deadLetterQueue).messages.push({ ...message, visibleAt: now });
          continue;
        }
        message.receiveCount++;
        message.firstReceiveTimestamp ??= now;
        message.visibleAt = now + visibility * 1000;
        message.receiptHandle = randomBytes(24).toString('base64url');
        received.push(structuredClone(message));
      }
      return received;
    });
  }

  /**
   * Deletes the message `receiptHandle` was issued for. A handle of a message already gone is
   * not an error (SQS accepts repeated deletes); so returns whether something was deleted.
   */
  delete(name: string, receiptHandle: string): boolean {
    return this.#mutate((state) => {
      const queue = queueIn(state, name);
      const at = queue.messages.findIndex((m) => m.receiptHandle === receiptHandle);
      if (at >= 0) queue.messages.splice(at, 1);
      return at >= 0;
    });
  }

  /** Makes an in-flight message visible again after `seconds` (0: at once). @throws `MessageNotInflight`. */
  changeVisibility(name: string, receiptHandle: string, seconds: number, now = Date.now()): void {
    this.#mutate((state) => {
      const message = queueIn(state, name).messages.find((m) => m.receiptHandle === receiptHandle);
      if (!message || message.visibleAt <= now) {
        throw new LocalSqsError('MessageNotInflight', 'AWS.SimpleQueueService.MessageNotInflight', 'the message is not in flight');
      }
      message.visibleAt = now + seconds * 1000;
    });
  }

  /** The queue's attributes plus the computed ones (`QueueArn` is the caller's to add). */
  attributes(name: string, now = Date.now()): Record<string, string> {
    const queue = this.queue(name);
    const count = (test: (m: StoredMessage) => boolean) => String(queue.messages.filter(test).length);
    return {
      ...queue.attributes,
      ApproximateNumberOfMessages: count((m) => m.visibleAt <= now),
      ApproximateNumberOfMessagesNotVisible: count((m) => m.visibleAt > now && m.receiveCount > 0),
      ApproximateNumberOfMessagesDelayed: count((m) => m.visibleAt > now && m.receiveCount === 0),
      CreatedTimestamp: String(Math.floor(queue.createdTimestamp / 1000)),
      LastModifiedTimestamp: String(Math.floor(queue.createdTimestamp / 1000)),
    };
  }

  /** Sets (merges) attributes of an existing queue, as SetQueueAttributes does. @throws `QueueDoesNotExist`. */
  setAttributes(name: string, attributes: Record<string, string>): void {
    this.#mutate((state) => {
      const queue = queueIn(state, name);
      queue.attributes = { ...queue.attributes, ...attributes };
    });
  }

  /**
   * Moves every message of `from` to the end of `to`, visible at once with its receive count
   * reset, as a dead-letter queue redrive (StartMessageMoveTask) does; returns how many moved.
   */
  moveMessages(from: string, to: string, now = Date.now()): number {
    return this.#mutate((state) => {
      const source = queueIn(state, from);
      const target = queueIn(state, to);
      const moved = source.messages.splice(0);
      for (const message of moved) {
        target.messages.push(withoutUndefined({ ...message, receiveCount: 0, firstReceiveTimestamp: undefined, receiptHandle: undefined, visibleAt: now }));
      }
      return moved.length;
    });
  }

  purge(name: string): void {
    this.#mutate((state) => {
      queueIn(state, name).messages = [];
    });
  }

  #load(): StoreState {
    try {
      return JSON.parse(readFileSync(this.file, 'utf8')) as StoreState;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, sequence: 0, queues: {} };
      throw error;
    }
  }

  #mutate<T>(change: (state: StoreState) => T): T {
    const state = this.#load();
    const result = change(state);
    const temp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(temp, JSON.stringify(state, null, 2));
    renameSync(temp, this.file);
    return result;
  }
}

function queueIn(state: StoreState, name: string): StoredQueue {
  const queue = state.queues[name];
  if (!queue) throw queueDoesNotExist(name);
  return queue;
}

/** The dead-letter queue's name and the receive limit, from the queue's `RedrivePolicy` attribute. */
function redrivePolicyOf(queue: StoredQueue): { deadLetterQueue: string; maxReceiveCount: number } | undefined {
  const raw = queue.attributes.RedrivePolicy;
  if (raw === undefined) return undefined;
  const policy = JSON.parse(raw) as { deadLetterTargetArn: string; maxReceiveCount: number | string };
  return { deadLetterQueue: policy.deadLetterTargetArn.split(':').pop()!, maxReceiveCount: Number(policy.maxReceiveCount) };
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
