/**
 * An in-memory SQS queue with the semantics the reliability suite and the fleet simulation rely on:
 * a message received is hidden for the visibility timeout (or what `ChangeMessageVisibility` set,
 * at most 12 hours), comes back when the consumer did not delete it, carries its
 * `ApproximateReceiveCount`, moves to the dead-letter queue once it has been received
 * `maxReceiveCount` times and is due again (SQS's redrive policy), and is dropped after the
 * retention period. Lambda's event source mapping is modelled by {@link drainQueue} (receive a
 * batch, invoke, delete what did not fail) and, with scaling and enable/disable, by
 * test/fleet/event-source-mapping.ts. Time is `options.now`, so a simulated clock can drive it.
 *
 * Messages wait in a heap ordered by when they become visible, so a receive costs O(log n) however
 * many are hidden (the fleet simulation holds 70,000 through an outage). Like SQS, no order is
 * promised; this one hands out the longest-visible first.
 *
 * In memory rather than `test/local/local-sqs.ts`: that emulator persists every operation to a JSON
 * file, which a 10,000-event soak would turn into gigabytes of rewrites.
 */
import type {
  ChangeMessageVisibilityBatchCommandInput,
  ChangeMessageVisibilityBatchCommandOutput,
  ChangeMessageVisibilityCommandInput,
  SendMessageCommandInput,
} from '@aws-sdk/client-sqs';
import type { SQSBatchItemFailure, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { MinHeap } from './min-heap.js';

export interface SimulatedSqsOptions {
  /** Receives before a message moves to the DLQ (the redrive policy's `maxReceiveCount`). */
  maxReceiveCount: number;
  /** How long a received message stays hidden. */
  visibilityTimeoutMs: number;
  /** `MessageRetentionPeriod`: a message older than this is dropped (SQS's default is 4 days). */
  retentionMs: number;
  queueArn: string;
  now: () => number;
}

export const SIMULATED_SQS_DEFAULTS: SimulatedSqsOptions = {
  maxReceiveCount: 5,
  visibilityTimeoutMs: 500,
  retentionMs: 4 * 24 * 3_600_000,
  queueArn: 'arn:aws:sqs:us-east-1:000000000000:entitlement-commands',
  now: () => Date.now(),
};

/** SQS's limit on a visibility timeout, `ChangeMessageVisibility` included: 12 hours. */
export const MAX_VISIBILITY_TIMEOUT_SECONDS = 43_200;

/** An SQS error as the SDK raises it: `name` is the API's error code. */
export class SimulatedSqsError extends Error {
  constructor(
    override readonly name: 'ReceiptHandleIsInvalid' | 'MessageNotInflight' | 'InvalidParameterValue',
    message: string,
  ) {
    super(message);
  }
}

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
  /** Successful `ChangeMessageVisibility` calls (single or batch entries). */
  visibilityChanged: number;
  /** Dropped after the retention period. */
  expired: number;
}

/** A heap entry: stale once its message moved (another receive, a visibility change, a delete). */
interface Visibility {
  readonly message: QueuedMessage;
  readonly visibleAt: number;
  readonly sequence: number;
}

export class SimulatedSqs {
  readonly options: SimulatedSqsOptions;
  readonly stats: QueueStats = { sent: 0, received: 0, redelivered: 0, deleted: 0, movedToDlq: 0, visibilityChanged: 0, expired: 0 };
  /** Messages moved by the redrive policy, in the order they moved. */
  readonly deadLetters: QueuedMessage[] = [];
  readonly #messages = new Map<string, QueuedMessage>();
  readonly #byReceipt = new Map<string, QueuedMessage>();
  readonly #byVisibility = new MinHeap<Visibility>((a, b) => a.visibleAt < b.visibleAt || (a.visibleAt === b.visibleAt && a.sequence < b.sequence));
  #sequence = 0;
  #entries = 0;

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
    const message: QueuedMessage = { messageId, body, attributes, sentAt: now, receiveCount: 0, visibleAt: now, receiptHandle: undefined };
    this.#messages.set(messageId, message);
    this.#schedule(message);
    this.stats.sent++;
    return messageId;
  }

  /** Messages received and not yet deleted or visible again (`ApproximateNumberOfMessagesNotVisible`). */
  get inFlight(): number {
    const now = this.options.now();
    let hidden = 0;
    for (const message of this.#messages.values()) if (message.visibleAt > now) hidden++;
    return hidden;
  }

  /** Whether `messageId` is still on the queue (not deleted, not dead-lettered, not expired). */
  holds(messageId: string): boolean {
    return this.#messages.has(messageId);
  }

  /**
   * `ChangeMessageVisibility`: the message received with `receiptHandle` becomes visible again
   * `seconds` from now (0: at once).
   *
   * @throws {SimulatedSqsError} `InvalidParameterValue` beyond 12 hours, `ReceiptHandleIsInvalid`
   *   for a receipt that is not the message's latest, `MessageNotInflight` when it is visible.
   */
  changeVisibility(receiptHandle: string, seconds: number): void {
    if (!Number.isInteger(seconds) || seconds < 0 || seconds > MAX_VISIBILITY_TIMEOUT_SECONDS) {
      throw new SimulatedSqsError('InvalidParameterValue', `visibility timeout must be an integer from 0 to ${MAX_VISIBILITY_TIMEOUT_SECONDS} seconds, got ${seconds}`);
    }
    const message = this.#byReceipt.get(receiptHandle);
    if (message === undefined) throw new SimulatedSqsError('ReceiptHandleIsInvalid', `receipt handle ${JSON.stringify(receiptHandle)} is not the latest of any message on the queue`);
    const now = this.options.now();
    if (message.visibleAt <= now) throw new SimulatedSqsError('MessageNotInflight', `message ${message.messageId} is not in flight`);
    message.visibleAt = now + seconds * 1000;
    this.#schedule(message);
    this.stats.visibilityChanged++;
  }

  /**
   * Receives up to `max` visible messages, oldest first, as Lambda records; each is hidden for the
   * visibility timeout. A visible message already received `maxReceiveCount` times moves to the DLQ
   * instead of being delivered.
   */
  receive(max: number): SQSRecord[] {
    const now = this.options.now();
    const records: SQSRecord[] = [];
    while (records.length < max) {
      const message = this.#nextVisible(now);
      if (message === undefined) break;
      if (now - message.sentAt >= this.options.retentionMs) {
        this.#forget(message);
        this.stats.expired++;
        continue;
      }
      if (message.receiveCount >= this.options.maxReceiveCount) {
        this.#forget(message);
        this.deadLetters.push(message);
        this.stats.movedToDlq++;
        continue;
      }
      if (message.receiveCount > 0) this.stats.redelivered++;
      message.receiveCount++;
      message.visibleAt = now + this.options.visibilityTimeoutMs;
      this.#schedule(message);
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
    const next = this.#peekCurrent();
    return next === undefined ? undefined : Math.max(0, next.visibleAt - this.options.now());
  }

  #schedule(message: QueuedMessage): void {
    this.#byVisibility.push({ message, visibleAt: message.visibleAt, sequence: this.#entries++ });
  }

  /** The heap's first entry that still describes its message (stale ones are dropped on the way). */
  #peekCurrent(): Visibility | undefined {
    for (;;) {
      const top = this.#byVisibility.peek();
      if (top === undefined) return undefined;
      if (this.#messages.get(top.message.messageId) === top.message && top.message.visibleAt === top.visibleAt) return top;
      this.#byVisibility.pop();
    }
  }

  #nextVisible(now: number): QueuedMessage | undefined {
    const top = this.#peekCurrent();
    if (top === undefined || top.visibleAt > now) return undefined;
    this.#byVisibility.pop();
    return top.message;
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

/**
 * Fakes for the SDK's `ChangeMessageVisibilityCommand` and `ChangeMessageVisibilityBatchCommand`
 * (aws-sdk-client-mock's `callsFake`) acting on `queue`, with SQS's errors: the single call throws,
 * the batch reports each failed entry in `Failed`.
 */
export function changeVisibilityIn(queue: SimulatedSqs) {
  return {
    single(input: ChangeMessageVisibilityCommandInput): Record<string, never> {
      queue.changeVisibility(input.ReceiptHandle ?? '', input.VisibilityTimeout ?? 0);
      return {};
    },
    batch(input: ChangeMessageVisibilityBatchCommandInput): Pick<ChangeMessageVisibilityBatchCommandOutput, 'Successful' | 'Failed'> {
      const output: Pick<ChangeMessageVisibilityBatchCommandOutput, 'Successful' | 'Failed'> = { Successful: [], Failed: [] };
      for (const entry of input.Entries ?? []) {
        try {
          queue.changeVisibility(entry.ReceiptHandle ?? '', entry.VisibilityTimeout ?? 0);
          output.Successful!.push({ Id: entry.Id });
        } catch (error) {
          const { name, message } = error as Error;
          output.Failed!.push({ Id: entry.Id, SenderFault: true, Code: name, Message: message });
        }
      }
      return output;
    },
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
