/**
 * An in-memory SQS queue with the semantics the reliability suite relies on: a message received is
 * hidden for the visibility timeout, comes back when the consumer did not delete it, carries its
 * `ApproximateReceiveCount`, and moves to the dead-letter queue once it has been received
 * `maxReceiveCount` times and is due again (SQS's redrive policy). Lambda's event source mapping
 * is modelled by {@link drainQueue}: receive a batch, invoke, delete what did not fail.
 *
 * In memory rather than `test/local/local-sqs.ts`: that emulator persists every operation to a JSON
 * file, which a 10,000-event soak would turn into gigabytes of rewrites.
 */
import type { SendMessageCommandInput } from '@aws-sdk/client-sqs';
import type { SQSBatchItemFailure, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';

export interface SimulatedSqsOptions {
  /** Receives before a message moves to the DLQ (the redrive policy's `maxReceiveCount`). */
  maxReceiveCount: number;
  /** How long a received message stays hidden. */
  visibilityTimeoutMs: number;
  queueArn: string;
  now: () => number;
}

export const SIMULATED_SQS_DEFAULTS: SimulatedSqsOptions = {
  maxReceiveCount: 5,
  visibilityTimeoutMs: 500,
  queueArn: 'arn:aws:sqs:us-east-1:000000000000:entitlement-commands',
  now: () => Date.now(),
};

/** A message as the queue keeps it. */
export interface QueuedMessage {
  readonly messageId: string;
  readonly body: string;
  readonly attributes: Record<string, string>;
  readonly sentAt: number;
  receiveCount: number;
  visibleAt: number;
  receiptHandle: string | undefined;
}

/** What the queue did so far. */
export interface QueueStats {
  sent: number;
  /** Deliveries: every record handed to a consumer. */
  received: number;
  /** Deliveries of a message that had been delivered before. */
  redelivered: number;
  deleted: number;
  movedToDlq: number;
}

export class SimulatedSqs {
  readonly options: SimulatedSqsOptions;
  readonly stats: QueueStats = { sent: 0, received: 0, redelivered: 0, deleted: 0, movedToDlq: 0 };
  /** Messages moved by the redrive policy, in the order they moved. */
  readonly deadLetters: QueuedMessage[] = [];
  readonly #messages = new Map<string, QueuedMessage>();
  readonly #byReceipt = new Map<string, QueuedMessage>();
  #sequence = 0;

  constructor(options: Partial<SimulatedSqsOptions> = {}) {
    this.options = { ...SIMULATED_SQS_DEFAULTS, ...options };
  }

  /** Messages in the queue, visible or in flight (not the DLQ). */
  get depth(): number {
    return this.#messages.size;
  }

  /** Sends one message; returns its id. */
  send(body: string, attributes: Record<string, string> = {}): string {
    this.#sequence++;
    const messageId = `sim-${String(this.#sequence).padStart(6, '0')}`;
    const now = this.options.now();
    this.#messages.set(messageId, { messageId, body, attributes, sentAt: now, receiveCount: 0, visibleAt: now, receiptHandle: undefined });
    this.stats.sent++;
    return messageId;
  }

  /**
   * Receives up to `max` visible messages, oldest first, as Lambda records; each is hidden for the
   * visibility timeout. A visible message already received `maxReceiveCount` times moves to the DLQ
   * instead of being delivered.
   */
  receive(max: number): SQSRecord[] {
    const now = this.options.now();
    const records: SQSRecord[] = [];
    for (const message of this.#messages.values()) {
      if (records.length >= max) break;
      if (message.visibleAt > now) continue;
      if (message.receiveCount >= this.options.maxReceiveCount) {
        this.#forget(message);
        this.deadLetters.push(message);
        this.stats.movedToDlq++;
        continue;
      }
      if (message.receiveCount > 0) this.stats.redelivered++;
      message.receiveCount++;
      message.visibleAt = now + this.options.visibilityTimeoutMs;
      if (message.receiptHandle) this.#byReceipt.delete(message.receiptHandle);
      message.receiptHandle = `${message.messageId}#${message.receiveCount}`;
      this.#byReceipt.set(message.receiptHandle, message);
      this.stats.received++;
      records.push(this.#record(message));
    }
    return records;
  }

  /** Deletes the records of a batch that are not in `failures`, as the event source mapping does. */
  settle(records: readonly SQSRecord[], failures: readonly SQSBatchItemFailure[] = []): void {
    const failed = new Set(failures.map((f) => f.itemIdentifier));
    for (const record of records) {
      if (failed.has(record.messageId)) continue;
      const message = this.#byReceipt.get(record.receiptHandle);
      // A stale receipt (the message came back and was received again) deletes nothing, as in SQS.
      if (message === undefined) continue;
      this.#forget(message);
      this.stats.deleted++;
    }
  }

  /** Milliseconds until the next hidden message becomes visible; `undefined` when none is hidden. */
  msUntilNextVisible(): number | undefined {
    let next = Number.POSITIVE_INFINITY;
    for (const message of this.#messages.values()) next = Math.min(next, message.visibleAt);
    return next === Number.POSITIVE_INFINITY ? undefined : Math.max(0, next - this.options.now());
  }

  #forget(message: QueuedMessage): void {
    this.#messages.delete(message.messageId);
    if (message.receiptHandle) this.#byReceipt.delete(message.receiptHandle);
  }

  #record(message: QueuedMessage): SQSRecord {
    return {
      messageId: message.messageId,
      receiptHandle: message.receiptHandle ?? '',
      body: message.body,
      attributes: {
        ApproximateReceiveCount: String(message.receiveCount),
        SentTimestamp: String(message.sentAt),
        SenderId: '000000000000',
        ApproximateFirstReceiveTimestamp: String(message.sentAt),
      },
      messageAttributes: Object.fromEntries(
        Object.entries(message.attributes).map(([name, value]) => [
          name,
          { stringValue: value, stringListValues: [], binaryListValues: [], dataType: 'String' },
        ]),
      ),
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: this.options.queueArn,
      awsRegion: this.options.queueArn.split(':')[3] ?? 'us-east-1',
    };
  }
}

/**
 * A fake for the SDK's `SendMessageCommand` (aws-sdk-client-mock's `callsFake`): the message lands
 * in `queue` with its string attributes, and `onSent` hears its id.
 */
export function sendMessageInto(queue: SimulatedSqs, onSent?: (messageId: string) => void) {
  return function sendToSimulatedSqs(input: SendMessageCommandInput): { MessageId: string } {
    const attributes = Object.fromEntries(Object.entries(input.MessageAttributes ?? {}).map(([name, value]) => [name, value.StringValue ?? '']));
    const messageId = queue.send(input.MessageBody ?? '', attributes);
    onSent?.(messageId);
    return { MessageId: messageId };
  };
}

export interface DrainOptions {
  /** Records per invocation (the event source mapping's `BatchSize`). */
  batchSize: number;
  /** Gives up (returns) after this long even if messages are left. */
  maxWaitMs: number;
  /** Invocations in flight at once, like Lambda scaling out to that many containers. */
  concurrency: number;
  /** Called after each settled batch, e.g. to inject a fault mid-run. */
  afterBatch?: (batch: { number: number; records: SQSRecord[]; response: SQSBatchResponse }) => void | Promise<void>;
  /** Stops after this many invocations. */
  maxBatches?: number;
}

export const DRAIN_DEFAULTS: DrainOptions = { batchSize: 10, maxWaitMs: 30_000, concurrency: 1 };

/**
 * Polls `queue` like Lambda's event source mapping until it is empty: invokes `invoke` with each
 * batch of visible records and deletes the ones not reported in `batchItemFailures`. A thrown
 * invocation fails the whole batch (every record comes back). With `concurrency` above 1,
 * `invoke(event, worker)` is told which of the pollers (0-based) calls it, so a caller can route
 * each to its own container. Returns the number of invocations.
 */
export async function drainQueue(
  queue: SimulatedSqs,
  invoke: (event: SQSEvent, worker: number) => Promise<SQSBatchResponse>,
  opts: Partial<DrainOptions> = {},
): Promise<number> {
  const options = { ...DRAIN_DEFAULTS, ...opts };
  // Monotonic: a test may move the wall clock (fake Date) while the queue drains.
  const giveUpAt = performance.now() + options.maxWaitMs;
  const maxBatches = options.maxBatches ?? Number.POSITIVE_INFINITY;
  let batches = 0;
  async function poll(worker: number): Promise<void> {
    while (queue.depth > 0 && performance.now() < giveUpAt && batches < maxBatches) {
      const records = queue.receive(options.batchSize);
      if (records.length === 0) {
        const wait = queue.msUntilNextVisible();
        if (wait === undefined) return; // only dead letters were left
        await new Promise((resolve) => setTimeout(resolve, Math.min(Math.max(wait, 5), 250)));
        continue;
      }
      const number = ++batches;
      let response: SQSBatchResponse;
      try {
        response = await invoke({ Records: records }, worker);
      } catch {
        response = { batchItemFailures: records.map((r) => ({ itemIdentifier: r.messageId })) };
      }
      queue.settle(records, response.batchItemFailures);
      await options.afterBatch?.({ number, records, response });
    }
  }
  await Promise.all(Array.from({ length: options.concurrency }, (_, worker) => poll(worker)));
  return batches;
}
