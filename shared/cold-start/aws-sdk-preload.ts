import type { MeshConfig } from '../config/mesh-config.js';

/**
 * The AWS SDK clients the functions use. Each is imported where it is used on first use (a
 * function that never reads DynamoDB or never falls back to Cloud Map never loads those), and
 * {@link preloadAwsSdk} loads at init the ones its first invocation will need.
 */
const SDK_CLIENTS = {
  // Literal specifiers: esbuild must see them to bundle the SDK with `bundleAwsSdk`.
  'client-dynamodb': () => import('@aws-sdk/client-dynamodb'),
  'client-lambda': () => import('@aws-sdk/client-lambda'),
  'client-secrets-manager': () => import('@aws-sdk/client-secrets-manager'),
  'client-servicediscovery': () => import('@aws-sdk/client-servicediscovery'),
  'client-sqs': () => import('@aws-sdk/client-sqs'),
} as const;

export type AwsSdkClient = keyof typeof SDK_CLIENTS;

/**
 * Loads `clients` now. Called with top-level `await` by a handler module, so the loading is part of
 * Lambda's init: it happens before any request when Lambda initialises a container ahead of
 * traffic (provisioned concurrency, proactive initialisation), rather than on the first request.
 * Loading the SDK is 110–150 ms of a cold start for the first client, 10–50 ms for each more; the ones a deployment does not use (DNS first,
 * the secrets extension, no fleet breaker) are left out, and never loaded unless used.
 */
export async function preloadAwsSdk(clients: readonly AwsSdkClient[]): Promise<void> {
  await Promise.all(clients.map((client) => SDK_CLIENTS[client]()));
}

/**
 * The SDK clients the mesh layer's first invocation uses under `config`: Secrets Manager for an
 * SVID read through the SDK, Cloud Map when it is the first discovery source, DynamoDB for the
 * fleet's breakers (read at the first call).
 */
export function meshSdkClients(config: MeshConfig): AwsSdkClient[] {
  const clients: AwsSdkClient[] = [];
  if (config.svid.secretId && (config.secretsManager?.mode ?? 'sdk') === 'sdk') clients.push('client-secrets-manager');
  if (config.discovery.order[0] === 'cloudmap') clients.push('client-servicediscovery');
  if (config.sharedBreaker) clients.push('client-dynamodb');
  return clients;
}
