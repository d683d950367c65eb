/**
 * Lambda's SQS event source mapping, on the knobs of the CDK context: it polls the queue, gathers
 * up to `batchSize` records for at most `maxBatchingWindowSeconds` (counted from the first record),
 * invokes the function with one batch event, then deletes the records the function did not report
 * in `batchItemFailures` (ReportBatchItemFailures). A function error fails the whole batch, and so
 * does a response naming a record that is not in the batch (as Lambda documents). Failed records
 * stay in flight until the visibility timeout, and reach the dead-letter queue after
 * `maxReceiveCount` receives (the queue's redrive policy). Each failed record's reason is kept for
 * the console. One batch at a time.
 */
import type { SQSBatchResponse, SQSRecord } from 'aws-lambda';
import type { FunctionPool } from './function-pool.js';
import type { InvocationRecord } from './invocation-history.js';
import type { MappedQueue } from './mapped-queue.js';

export interface EventSourceMappingOptions {
  queue: MappedQueue;
  pool: FunctionPool;
  batchSize: number;
  maxBatchingWindowSeconds: number;
  visibilityTimeoutSeconds: number;
  /** How often an empty queue is polled again. */
  pollIntervalMs: number;
  /** A record failed: `reason` is its error, `<code>: <message>`. */
  onRecordFailed(messageId: string, reason: string, receiveCount: number): void;
  /** A poll or delete failed (the queue is unreachable). */
  onError(error: unknown): void;
}

export const EVENT_SOURCE_MAPPING_DEFAULTS = { pollIntervalMs: 250 } as const;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The error a function logged for `messageId` (Powertools' `error` field), or undefined. */
function loggedReason(invocation: InvocationRecord, messageId: string): string | undefined {
  for (const { json } of [...invocation.logs].reverse()) {
    if (json?.messageId !== messageId) continue;
    const error = json.error as { code?: unknown; name?: unknown; message?: unknown } | undefined;
    if (error && typeof error === 'object') return `${String(error.code ?? error.name)}: ${String(error.message)}`;
  }
  return undefined;
}

/** The ids a valid partial batch response fails, or undefined when the response fails the whole batch. */
export function failedIdsOf(response: unknown, records: readonly SQSRecord[]): Set<string> | undefined {
  if (response === null || response === undefined) return new Set();
  const failures = (response as Partial<SQSBatchResponse>).batchItemFailures;
  if (failures === undefined || failures === null) return new Set();
  if (!Array.isArray(failures)) return undefined;
  const ids = new Set(records.map((r) => r.messageId));
  const failed = new Set<string>();
  for (const failure of failures) {
    const id = (failure as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    if (typeof id !== 'string' || !ids.has(id)) return undefined;
    failed.add(id);
  }
  return failed;
}

export class EventSourceMapping {
  readonly options: EventSourceMappingOptions;
  /** `UpdateEventSourceMapping`'s `Enabled`: a disabled mapping polls nothing. */
  enabled = true;
  #stopped = false;
  #loop: Promise<void> | undefined;

  constructor(opts: Omit<EventSourceMappingOptions, keyof typeof EVENT_SOURCE_MAPPING_DEFAULTS> & Partial<EventSourceMappingOptions>) {
    this.options = { ...EVENT_SOURCE_MAPPING_DEFAULTS, ...opts };
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  /** Stops polling now; a batch in flight is still settled. */
  halt(): void {
    this.#stopped = true;
  }

  /** Stops polling; resolves once the batch in flight (if any) is settled. */
  async stop(): Promise<void> {
    this.halt();
    await this.#loop;
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      try {
        if (!this.enabled) {
          await sleep(this.options.pollIntervalMs);
          continue;
        }
        const records = await this.#gather();
        if (records.length > 0) await this.#deliver(records);
      } catch (error) {
        this.options.onError(error);
        await sleep(1000);
      }
    }
  }

  /** One batch: up to `batchSize` records, within the batching window from the first one. */
  async #gather(): Promise<SQSRecord[]> {
    const { queue, batchSize, maxBatchingWindowSeconds, visibilityTimeoutSeconds, pollIntervalMs } = this.options;
    const records: SQSRecord[] = [];
    let windowEnds: number | undefined;
    while (!this.#stopped) {
      const got = await queue.receive(batchSize - records.length, visibilityTimeoutSeconds);
      for (const record of got) {
        // Received again within the window (visibility timeout shorter than the window): one
        // record per message, with the newest receipt handle, the only one that can delete it.
        const earlier = records.findIndex((r) => r.messageId === record.messageId);
        if (earlier >= 0) records.splice(earlier, 1);
        records.push(record);
      }
      if (records.length >= batchSize) break;
      if (records.length > 0) {
        windowEnds ??= Date.now() + maxBatchingWindowSeconds * 1000;
        if (Date.now() >= windowEnds) break;
        if (got.length === 0) await sleep(Math.min(pollIntervalMs, Math.max(0, windowEnds - Date.now())));
      } else {
        await sleep(pollIntervalMs);
        if (!this.enabled) break;
      }
    }
    return records;
  }

  async #deliver(records: SQSRecord[]): Promise<void> {
    const { pool, queue, onRecordFailed } = this.options;
    const { record: invocation, outcome } = await pool.invoke({
      event: { Records: records },
      trigger: 'sqs',
      detail: `${records.length} record(s) from ${queue.url.split('/').pop()}`,
    });
    let failed: Set<string>;
    let wholeBatchReason: string | undefined;
    if (!outcome.ok) {
      failed = new Set(records.map((r) => r.messageId));
      wholeBatchReason = `${outcome.error.errorCode ?? outcome.error.errorType}: ${outcome.error.errorMessage}`;
    } else {
      const ids = failedIdsOf(outcome.result, records);
      failed = ids ?? new Set(records.map((r) => r.messageId));
      if (!ids) wholeBatchReason = 'the batch response names a record that is not in the batch: the whole batch failed';
    }
    for (const record of records) {
      if (!failed.has(record.messageId)) continue;
      const reason = wholeBatchReason ?? loggedReason(invocation, record.messageId) ?? 'reported in batchItemFailures';
      onRecordFailed(record.messageId, reason, Number(record.attributes.ApproximateReceiveCount));
    }
    await queue.delete(records.filter((r) => !failed.has(r.messageId)));
  }
}
