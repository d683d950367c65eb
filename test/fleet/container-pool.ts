/**
 * grant-entitlements' containers: N of them, each cold-started on its first invocation (its own
 * module graph), each running one invocation at a time. The fleet is N warm containers and Lambda
 * does not say which idle one serves an invocation, so a batch goes to a random idle one (seeded):
 * every container of the fleet meets the outage, as in a fleet of N.
 */
import type { Context, SQSBatchResponse, SQSRecord } from 'aws-lambda';
import { lambdaContextOf } from '../fixtures/lambda-context.js';
import { seededRandom } from '../local/seeded-random.js';
import type { SimulatedSqs } from '../reliability/simulated-sqs.js';
import type { ContainerLoader, GrantHandler } from './container-modules.js';

export class ContainerPool {
  invocations = 0;
  /** Invocations whose records all succeeded, and their real time together (for the capacity table). */
  readonly clean = { batches: 0, ms: 0, counting: false };
  readonly #handlers: (GrantHandler | undefined)[];
  readonly #random: () => number;

  constructor(
    private readonly design: string,
    private readonly options: { containers: number; functionTimeoutSeconds: number; seed: number },
    private readonly load: ContainerLoader,
    private readonly queue: SimulatedSqs,
  ) {
    this.#handlers = Array.from({ length: options.containers }, () => undefined);
    this.#random = seededRandom(options.seed);
  }

  /** Containers that have cold-started. */
  get started(): number {
    return this.#handlers.filter((h) => h !== undefined).length;
  }

  /**
   * Invokes each batch on its own idle container, all at once, and deletes from the queue what
   * each reports done (a thrown invocation fails its whole batch). Resolves when all returned.
   */
  async invokeAll(batches: readonly SQSRecord[][]): Promise<void> {
    const idle = Array.from({ length: this.options.containers }, (_, i) => i);
    await Promise.all(
      batches.map((records) => {
        const [container] = idle.splice(Math.floor(this.#random() * idle.length), 1);
        return this.#invoke(container!, records);
      }),
    );
  }

  async #invoke(container: number, records: SQSRecord[]): Promise<void> {
    const handler = (this.#handlers[container] ??= await this.load('grant', `${this.design}-${container}`));
    this.invocations++;
    const context = lambdaContextOf({ functionName: 'grant-entitlements', remainingMs: this.options.functionTimeoutSeconds * 1000 }) as Context;
    const startedAt = performance.now();
    let response: SQSBatchResponse;
    try {
      response = await handler({ Records: records }, context);
    } catch {
      response = { batchItemFailures: records.map((r) => ({ itemIdentifier: r.messageId })) };
    }
    if (this.clean.counting && response.batchItemFailures.length === 0) {
      this.clean.batches++;
      this.clean.ms += performance.now() - startedAt;
    }
    this.queue.settle(records, response.batchItemFailures);
  }
}
