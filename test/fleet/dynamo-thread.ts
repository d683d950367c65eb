/**
 * dynalite on a worker thread (dynalite-worker.mjs), with a client for it and its request counts.
 */
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { LOCAL_DYNAMO_CREDENTIALS, LOCAL_DYNAMO_REGION } from '../local/dynalite.js';

export interface DynamoThread {
  /** `http://127.0.0.1:<port>`, for `AWS_ENDPOINT_URL_DYNAMODB`. */
  endpoint: string;
  client: DynamoDBClient;
  /** Requests so far by `<table> <operation>`, e.g. `mesh-state GetItem`. */
  requestCounts(): Promise<Record<string, number>>;
  close(): Promise<void>;
}

/** Starts dynalite on its own thread; resolves once it listens. */
export async function startDynamoThread(): Promise<DynamoThread> {
  const worker = new Worker(new URL('./dynalite-worker.mjs', import.meta.url));
  const [ready] = (await once(worker, 'message')) as [{ port: number }];
  const endpoint = `http://127.0.0.1:${ready.port}`;
  const client = new DynamoDBClient({ endpoint, region: LOCAL_DYNAMO_REGION, credentials: LOCAL_DYNAMO_CREDENTIALS });
  return {
    endpoint,
    client,
    async requestCounts() {
      worker.postMessage('counts');
      const [answer] = (await once(worker, 'message')) as [{ counts: Record<string, number> }];
      return answer.counts;
    },
    async close() {
      client.destroy();
      worker.postMessage('close');
      await once(worker, 'exit');
    },
  };
}
