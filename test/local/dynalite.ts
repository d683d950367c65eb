/**
 * A real DynamoDB implementation on loopback (dynalite, LevelDB underneath) for tests and the
 * local mesh: every DynamoDB test and the local invoke CLI start one with `startDynalite`.
 *
 * What dynalite does not implement, so code relying on it is not testable here: transactions
 * (`TransactWriteItems`/`TransactGetItems`), TTL, PartiQL, streams, and
 * `ReturnValuesOnConditionCheckFailure` (accepted, but a failed condition never carries the item).
 */
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';

/** The slice of dynalite's (untyped, CommonJS) factory this module uses. */
type DynaliteFactory = (options: {
  path?: string;
  createTableMs?: number;
  deleteTableMs?: number;
  updateTableMs?: number;
}) => Server;

// dynalite ships no type declarations; a typed require keeps the cast in one place.
const dynalite = createRequire(import.meta.url)('dynalite') as DynaliteFactory;

export interface StartDynaliteOptions {
  /** A LevelDB directory, so tables and items survive a restart; in memory when absent. */
  path?: string;
}

export interface LocalDynamo {
  /** `http://127.0.0.1:<port>`: what `AWS_ENDPOINT_URL_DYNAMODB` is set to for code under test. */
  endpoint: string;
  /** A client for `endpoint`, with a region and fake credentials (dynalite checks neither). */
  client: DynamoDBClient;
  /** Destroys `client`, drops every open connection, stops the server and closes LevelDB. */
  close(): Promise<void>;
}

/** The region and credentials local clients use: dynalite needs them present, never valid. */
export const LOCAL_DYNAMO_REGION = 'us-east-1';
export const LOCAL_DYNAMO_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;

/**
 * Starts dynalite on 127.0.0.1 on an ephemeral port, with tables active as soon as they are
 * created (no `CREATING` phase to wait through).
 *
 * @throws the listen error, when the server cannot bind.
 */
export async function startDynalite(options: StartDynaliteOptions = {}): Promise<LocalDynamo> {
  const server = dynalite({
    ...(options.path === undefined ? {} : { path: options.path }),
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({
    endpoint,
    region: LOCAL_DYNAMO_REGION,
    credentials: LOCAL_DYNAMO_CREDENTIALS,
  });

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= closeServer(server, client);
    return closing;
  };
  return { endpoint, client, close };
}

async function closeServer(server: Server, client: DynamoDBClient): Promise<void> {
  client.destroy();
  // Other clients (a store's own, the SDK's default one under AWS_ENDPOINT_URL_DYNAMODB) may
  // hold keep-alive sockets: without this, server.close would wait for them to time out.
  const closed = new Promise<void>((resolve, reject) => {
    server.close((error?: Error) => (error ? reject(error) : resolve()));
  });
  server.closeAllConnections();
  await closed;
}
