import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { MESH_STATE_ATTRIBUTES } from './fleet-breaker-record.js';

/**
 * Creates the `mesh-state` table (string partition key `pk`, on-demand) and waits until it is
 * ACTIVE; an existing table is waited for, not an error. For tests, the local mesh and the fleet
 * simulation: in AWS the CDK data stack owns it, with TTL on `expiresAt` (which dynalite lacks).
 *
 * @throws the SDK's error when the table cannot be created or does not become ACTIVE in time.
 */
export async function createMeshStateTable(client: DynamoDBClient, tableName: string): Promise<void> {
  // Imported here: `shared-breaker/index.ts` re-exports this, and a function importing the index
  // must not load the SDK at init for a set-up it never runs.
  const { CreateTableCommand, waitUntilTableExists } = await import('@aws-sdk/client-dynamodb');
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: MESH_STATE_ATTRIBUTES.key, AttributeType: 'S' }],
        KeySchema: [{ AttributeName: MESH_STATE_ATTRIBUTES.key, KeyType: 'HASH' }],
      }),
    );
  } catch (error) {
    if ((error as { name?: unknown }).name !== 'ResourceInUseException') throw error;
  }
  await waitUntilTableExists({ client, minDelay: 1, maxDelay: 5, maxWaitTime: 120 }, { TableName: tableName });
}
