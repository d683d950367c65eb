/**
 * The shared design's `mesh-state` table in dynalite, created before its containers start.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createMeshStateTable } from '../../shared/resilience/shared-breaker/mesh-state-table.js';
import { MESH_STATE_TABLE } from './fleet-designs.js';

/** Creates the `mesh-state` table the shared breaker keeps its state in (the project's own schema). */
export async function prepareSharedState(client: DynamoDBClient): Promise<void> {
  await createMeshStateTable(client, MESH_STATE_TABLE);
}
