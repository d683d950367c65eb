/**
 * The shared design's `mesh-state` table in dynalite, created before its containers start.
 */
import { CreateTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { MESH_STATE_TABLE } from './fleet-designs.js';

/** Creates the `mesh-state` table the shared breaker keeps its state in. */
export async function prepareSharedState(client: DynamoDBClient): Promise<void> {
  await client.send(
    new CreateTableCommand({
      TableName: MESH_STATE_TABLE,
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
}
