import { DynamoDBClient } from '@aws-sdk/client-dynamodb';

/** Sockets the SDK's Node HTTP handler keeps per client unless told otherwise. */
const SDK_DEFAULT_MAX_SOCKETS = 50;

/**
 * A DynamoDB client for an entitlements store that keeps `concurrency` writes in flight: the
 * SDK's defaults (keep-alive, credentials and endpoint from the environment, standard retries),
 * plus what cuts its CPU per request, which bounds a family's fan-out once its writes overlap:
 * - `cacheMiddleware`: the middleware stack is resolved once per command class instead of on
 *   every send (the store never changes the stack after it is made);
 * - no logger middleware: it copies and filters every request and response for a logger that,
 *   unconfigured, discards them;
 * - at least `concurrency` sockets, so that no write waits in the HTTP agent's queue.
 */
export function defaultEntitlementsClient(concurrency: number): DynamoDBClient {
  const maxSockets = Math.max(concurrency, SDK_DEFAULT_MAX_SOCKETS);
  const client = new DynamoDBClient({
    cacheMiddleware: true,
    requestHandler: { httpAgent: { maxSockets }, httpsAgent: { maxSockets } },
  });
  client.middlewareStack.remove('loggerMiddleware');
  return client;
}
