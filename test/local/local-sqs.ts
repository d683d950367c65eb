/**
 * A local SQS: an HTTP server on loopback speaking the JSON protocol the AWS SDK v3 SQS client
 * uses (`sqs-json-protocol.ts`), over a {@link LocalSqsStore} persisted in a directory, so the
 * real SDK client in payment-webhook works against it with `AWS_ENDPOINT_URL_SQS` and `QUEUE_URL`,
 * and state survives between CLI runs.
 *
 * Operations: CreateQueue, GetQueueUrl, GetQueueAttributes, SetQueueAttributes, SendMessage,
 * SendMessageBatch, ReceiveMessage (with long polling), DeleteMessage, DeleteMessageBatch,
 * ChangeMessageVisibility, PurgeQueue.
 *
 * Hand-written because no maintained emulator on npm met the needs here (checked December 2026):
 * fauxqs 2.4.1 persists state only through `startFauxqs`, which listens on 0.0.0.0 whatever host
 * it is given (this project's servers listen on loopback only), answers ChangeMessageVisibility
 * with `VisibilityTimeout: 0` on a persisted queue with a 500 (`ERR_SQLITE_ERROR: NOT NULL
 * constraint failed: sqs_messages.approximate_receive_count`), and its `createQueue` replaces a
 * persisted queue, dropping its messages; local-aws-sqs 2.0.2 keeps state in memory only, so a
 * message queued by one `npm run invoke` would be gone for the next.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SQSBatchItemFailure, SQSRecord } from 'aws-lambda';
import { LocalSqsStore } from './local-sqs-store.js';
import { serveSqsRequest, sqsOperations, wireMessage } from './sqs-json-protocol.js';
import { LOCAL_ACCOUNT_ID, sqsRecordFromMessage } from './sqs-event.js';

export interface LocalSqsOptions {
  /** Where `queues.json` is kept. */
  dir: string;
  /** The region put in queue ARNs and records. */
  region: string;
  host: string;
  /** 0 picks a free port. */
  port: number;
}

export const LOCAL_SQS_DEFAULTS = { region: 'us-east-1', host: '127.0.0.1', port: 0 } satisfies Partial<LocalSqsOptions>;

export interface LocalSqs {
  /** `http://127.0.0.1:<port>`: what `AWS_ENDPOINT_URL_SQS` is set to. */
  readonly endpoint: string;
  readonly region: string;
  readonly store: LocalSqsStore;
  /** `<endpoint>/000000000000/<name>`. */
  queueUrl(name: string): string;
  queueArn(name: string): string;
  /** Creates the queue unless it exists; returns its URL. */
  createQueue(name: string, attributes?: Record<string, string>): string;
  /**
   * Receives every visible message of `name` (at most `max`) as Lambda SQS records, counting the
   * receive and hiding them for the visibility timeout, as the event source mapping does.
   */
  drain(name: string, options?: { max?: number }): SQSRecord[];
  /** Deletes the records not listed in `failures`, as the event source mapping does after a batch. */
  settle(name: string, records: SQSRecord[], failures?: SQSBatchItemFailure[]): void;
  close(): Promise<void>;
}

/** Starts the emulator on an ephemeral loopback port. @throws the listen error. */
export async function startLocalSqs(opts: Partial<LocalSqsOptions> & Pick<LocalSqsOptions, 'dir'>): Promise<LocalSqs> {
  const options: LocalSqsOptions = { ...LOCAL_SQS_DEFAULTS, ...opts };
  const store = new LocalSqsStore(options.dir);
  const closing = new AbortController();
  let endpoint = '';
  const queueArn = (name: string) => `arn:aws:sqs:${options.region}:${LOCAL_ACCOUNT_ID}:${name}`;
  const queueUrl = (name: string) => `${endpoint}/${LOCAL_ACCOUNT_ID}/${name}`;
  const operations = sqsOperations(store, { queueUrl, queueArn, closed: closing.signal });

  const server = createServer((request, response) => {
    void serveSqsRequest(request, response, operations);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  endpoint = `http://${options.host}:${(server.address() as AddressInfo).port}`;

  return {
    endpoint,
    region: options.region,
    store,
    queueUrl,
    queueArn,
    createQueue(name, attributes) {
      store.createQueue(name, attributes);
      return queueUrl(name);
    },
    drain(name, { max = Number.POSITIVE_INFINITY } = {}) {
      const records: SQSRecord[] = [];
      while (records.length < max) {
        const batch = store.receive(name, { max: Math.min(10, max - records.length) });
        if (batch.length === 0) break;
        records.push(...batch.map((m) => sqsRecordFromMessage(wireMessage(m, ['All'], ['All']), queueArn(name))));
      }
      return records;
    },
    settle(name, records, failures = []) {
      const failed = new Set(failures.map((f) => f.itemIdentifier));
      for (const record of records) if (!failed.has(record.messageId)) store.delete(name, record.receiptHandle);
    },
    async close() {
      closing.abort();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
