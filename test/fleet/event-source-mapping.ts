/**
 * Lambda's SQS event source mapping as the fleet simulation needs it: batches of `BatchSize`
 * gathered for up to `MaximumBatchingWindowInSeconds`, `Enabled` switched by
 * `UpdateEventSourceMapping` (through `Disabling`/`Enabling`, as the API reports), the
 * `ScalingConfig.MaximumConcurrency` cap, and the pollers' documented scaling for standard queues
 * (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html): "When messages are
 * available, Lambda starts processing five batches at a time with five concurrent invocations …
 * If messages are still available, Lambda increases the number of processes that are reading
 * batches by up to 300 more instances per minute. The maximum number of batches that an event
 * source mapping can process simultaneously is 1,000. When traffic is low, Lambda scales back the
 * processing to five concurrent batches". Failed records do not scale it down: with
 * `ReportBatchItemFailures` a partial failure is a successful invocation.
 *
 * The mapping decides how many batches run per simulated second; the fleet runner hands each to a
 * free container. Receive counts, visibility and the DLQ are the queue's (simulated-sqs.ts).
 */
import type {
  GetEventSourceMappingCommandOutput,
  UpdateEventSourceMappingCommandInput,
  UpdateEventSourceMappingCommandOutput,
} from '@aws-sdk/client-lambda';
import type { SQSRecord } from 'aws-lambda';
import type { SimulatedSqs } from '../reliability/simulated-sqs.js';

export interface EventSourceMappingOptions {
  uuid: string;
  functionArn: string;
  eventSourceArn: string;
  batchSize: number;
  maximumBatchingWindowSeconds: number;
  /** `ScalingConfig.MaximumConcurrency`; none in today's design. */
  maximumConcurrency: number | undefined;
  /** Containers the function can run at once: the simulated fleet (its reserved concurrency). */
  functionConcurrency: number;
  /** Batches at a time when messages appear, and the floor when traffic is low (documented: 5). */
  initialBatches: number;
  /** Added batches per minute while messages keep coming (documented: up to 300). */
  scaleUpPerMinute: number;
  /** Most batches at once for one mapping (documented: 1,000). */
  maxBatches: number;
  /** How long `Enabling`/`Disabling` last before the mapping is `Enabled`/`Disabled`. */
  transitionMs: number;
}

export const EVENT_SOURCE_MAPPING_DEFAULTS: Omit<EventSourceMappingOptions, 'functionConcurrency' | 'maximumConcurrency'> = {
  uuid: '6b1a3e02-5c0f-4a4e-9a53-000000000016',
  functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:grant-entitlements',
  eventSourceArn: 'arn:aws:sqs:us-east-1:000000000000:entitlement-commands',
  batchSize: 10,
  maximumBatchingWindowSeconds: 1,
  initialBatches: 5,
  scaleUpPerMinute: 300,
  maxBatches: 1_000,
  transitionMs: 1_000,
};

type MappingState = 'Enabled' | 'Disabling' | 'Disabled' | 'Enabling';

/** A state change, for the timeline. */
export interface MappingChange {
  at: number;
  state: MappingState;
}

export class SimulatedEventSourceMapping {
  readonly options: EventSourceMappingOptions;
  readonly changes: MappingChange[] = [];
  /** `UpdateEventSourceMapping` calls, and `GetEventSourceMapping` calls. */
  readonly calls = { update: 0, get: 0 };
  #enabled = true;
  #state: MappingState = 'Enabled';
  #settlesAt = 0;
  #batches: number;
  #lastPollAt: number | undefined;
  /** Every poller filled its batch at the last poll. */
  #backlog = false;
  /** Records received and held by a poller until the batch is full or the window has passed. */
  #held: { records: SQSRecord[]; since: number } | undefined;
  #disabledSince: number | undefined;
  #disabledMs = 0;

  constructor(opts: Partial<EventSourceMappingOptions> & Pick<EventSourceMappingOptions, 'functionConcurrency' | 'maximumConcurrency'>) {
    this.options = { ...EVENT_SOURCE_MAPPING_DEFAULTS, ...opts };
    this.#batches = this.options.initialBatches;
  }

  /** The mapping's `State` at `now`. */
  state(now: number): MappingState {
    if ((this.#state === 'Disabling' || this.#state === 'Enabling') && now >= this.#settlesAt) {
      this.#state = this.#enabled ? 'Enabled' : 'Disabled';
      this.changes.push({ at: now, state: this.#state });
    }
    return this.#state;
  }

  /** Milliseconds the mapping was not polling, up to `now`. */
  disabledMs(now: number): number {
    return this.#disabledMs + (this.#disabledSince === undefined ? 0 : now - this.#disabledSince);
  }

  /** Invocations that may run at once: MaximumConcurrency, the function's concurrency, 1,000. */
  get concurrencyCap(): number {
    const { maximumConcurrency, functionConcurrency, maxBatches } = this.options;
    return Math.min(maximumConcurrency ?? Number.POSITIVE_INFINITY, functionConcurrency, maxBatches);
  }

  /** The batches the pollers currently run at once. */
  get batchesInParallel(): number {
    return Math.min(Math.floor(this.#batches), this.concurrencyCap);
  }

  /**
   * One poll at `now`: the batches to invoke now, none while disabled. The pollers receive
   * together, at most `BatchSize` each, and share what is visible (five pollers and ten visible
   * messages make five batches of two, as five long-polling receivers would); partial batches wait
   * for the batching window. Scales up while every poller fills its batch, back to the floor when
   * the queue runs dry.
   */
  poll(queue: SimulatedSqs, now: number): SQSRecord[][] {
    const elapsedMs = this.#lastPollAt === undefined ? 0 : now - this.#lastPollAt;
    this.#lastPollAt = now;
    const state = this.state(now);
    if (state === 'Disabled' || state === 'Enabling') return [];
    // Messages were still available at the last poll: more pollers joined meanwhile.
    if (this.#backlog) this.#batches = Math.min(this.#batches + (this.options.scaleUpPerMinute * elapsedMs) / 60_000, this.concurrencyCap);
    const { batchSize, maximumBatchingWindowSeconds } = this.options;
    const pollers = this.batchesInParallel;
    const capacity = pollers * batchSize;
    const held = this.#held;
    const records = held ? held.records : [];
    if (records.length < capacity) records.push(...queue.receive(capacity - records.length));
    const full = records.length >= capacity;
    this.#backlog = full;
    if (records.length === 0) this.#batches = this.options.initialBatches;
    if (records.length === 0) return [];
    const since = held?.since ?? now;
    if (!full && now - since < maximumBatchingWindowSeconds * 1000) {
      this.#held = { records, since };
      return [];
    }
    this.#held = undefined;
    const count = Math.min(pollers, records.length);
    const batches: SQSRecord[][] = Array.from({ length: count }, () => []);
    records.forEach((record, i) => batches[i % count]!.push(record));
    return batches;
  }

  /** `UpdateEventSourceMapping`: only `Enabled` and `ScalingConfig` are simulated. */
  update(input: UpdateEventSourceMappingCommandInput, now: number): UpdateEventSourceMappingCommandOutput {
    this.calls.update++;
    if (input.UUID !== this.options.uuid) throw Object.assign(new Error(`event source mapping ${input.UUID} not found`), { name: 'ResourceNotFoundException' });
    if (input.ScalingConfig) this.options.maximumConcurrency = input.ScalingConfig.MaximumConcurrency;
    if (input.Enabled !== undefined && input.Enabled !== this.#enabled) {
      this.#enabled = input.Enabled;
      this.#state = input.Enabled ? 'Enabling' : 'Disabling';
      this.#settlesAt = now + this.options.transitionMs;
      this.changes.push({ at: now, state: this.#state });
      if (!input.Enabled) this.#disabledSince ??= now;
      else if (this.#disabledSince !== undefined) {
        this.#disabledMs += now - this.#disabledSince;
        this.#disabledSince = undefined;
      }
    }
    return this.#describe(now) as UpdateEventSourceMappingCommandOutput;
  }

  /** `GetEventSourceMapping`. */
  get(uuid: string | undefined, now: number): GetEventSourceMappingCommandOutput {
    this.calls.get++;
    if (uuid !== this.options.uuid) throw Object.assign(new Error(`event source mapping ${uuid} not found`), { name: 'ResourceNotFoundException' });
    return this.#describe(now) as GetEventSourceMappingCommandOutput;
  }

  #describe(now: number) {
    const { uuid, functionArn, eventSourceArn, batchSize, maximumBatchingWindowSeconds, maximumConcurrency } = this.options;
    return {
      $metadata: {},
      UUID: uuid,
      FunctionArn: functionArn,
      EventSourceArn: eventSourceArn,
      BatchSize: batchSize,
      MaximumBatchingWindowInSeconds: maximumBatchingWindowSeconds,
      FunctionResponseTypes: ['ReportBatchItemFailures' as const],
      ...(maximumConcurrency === undefined ? {} : { ScalingConfig: { MaximumConcurrency: maximumConcurrency } }),
      State: this.state(now),
      LastModified: new Date(now),
    };
  }
}
