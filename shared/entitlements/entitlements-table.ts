import {
  CreateTableCommand,
  waitUntilTableExists,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';

/**
 * The attribute names of the entitlements table (the schema is documented in
 * `entitlement-store.ts`). Expressions always go through `#names`: `status` is a DynamoDB
 * reserved word, and one spelling of every name keeps the store and the table in step.
 */
export const ENTITLEMENT_ATTRIBUTES = {
  userId: 'userId',
  entitlement: 'entitlement',
  status: 'status',
  eventId: 'eventId',
  eventCreated: 'eventCreated',
  eventRank: 'eventRank',
  eventType: 'eventType',
  purchaserId: 'purchaserId',
  familyId: 'familyId',
  grantedAt: 'grantedAt',
  updatedAt: 'updatedAt',
  expiresAt: 'expiresAt',
} as const;

/** How long `createEntitlementsTable` waits for the table to become ACTIVE. */
const TABLE_ACTIVE_TIMEOUT_SECONDS = 120;

/**
 * Creates the entitlements table (on-demand capacity) and waits until it is ACTIVE; a table
 * that already exists is waited for, not an error, so a persistent local store can be reused.
 * For tests and the local mesh: in AWS the CDK stack owns the table.
 *
 * @throws the SDK's error when the table cannot be created or does not become ACTIVE in time.
 */
export async function createEntitlementsTable(client: DynamoDBClient, tableName: string): Promise<void> {
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: ENTITLEMENT_ATTRIBUTES.userId, AttributeType: 'S' },
          { AttributeName: ENTITLEMENT_ATTRIBUTES.entitlement, AttributeType: 'S' },
        ],
        KeySchema: [
          { AttributeName: ENTITLEMENT_ATTRIBUTES.userId, KeyType: 'HASH' },
          { AttributeName: ENTITLEMENT_ATTRIBUTES.entitlement, KeyType: 'RANGE' },
        ],
      }),
    );
  } catch (error) {
    if ((error as { name?: unknown }).name !== 'ResourceInUseException') throw error;
  }
  // The waiter checks once at once, then backs off from minDelay: seconds in AWS, instant locally.
  await waitUntilTableExists(
    { client, minDelay: 1, maxDelay: 5, maxWaitTime: TABLE_ACTIVE_TIMEOUT_SECONDS },
    { TableName: tableName },
  );
}
