/**
 * The store's one write: a conditional `UpdateItem` that applies an event to one member's
 * entitlement only if it comes after the event the item holds.
 *
 * The order is (`eventCreated`, `eventRank`, `eventId`), see `compareEventOrder`. The write
 * happens when no item exists or the stored event comes strictly before the new one, and never
 * when the stored event is the new one. DynamoDB evaluates the condition and the write
 * atomically per item, so two containers racing with one event get one `applied` between them.
 */
import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ACTION_RANK, show, type ApplyOutcome, type EntitlementChange } from './entitlement-change.js';
import { userFailure } from './entitlement-store-error.js';
import { ENTITLEMENT_ATTRIBUTES as A } from './entitlements-table.js';

// Every attribute but the sort key, which the expressions never mention (DynamoDB rejects unused names).
const WRITE_NAMES = Object.fromEntries(
  Object.values(A)
    .filter((name) => name !== A.entitlement)
    .map((name) => [`#${name}`, name]),
);

// The `<>` clauses keep a redelivery that carries another `created` a duplicate. Written flat, in
// disjunctive form: the equivalent nested parentheses cost dynalite's PEG parser ~100 ms a write.
const IS_LATER_EVENT = [
  `attribute_not_exists(#${A.userId})`,
  `(#${A.eventCreated} < :eventCreated AND #${A.eventId} <> :eventId)`,
  `(#${A.eventCreated} = :eventCreated AND #${A.eventRank} < :eventRank AND #${A.eventId} <> :eventId)`,
  `(#${A.eventCreated} = :eventCreated AND #${A.eventRank} = :eventRank AND #${A.eventId} < :eventId)`,
].join(' OR ');

const SET_EVENT =
  `SET #${A.status} = :status, #${A.eventId} = :eventId, #${A.eventCreated} = :eventCreated, ` +
  `#${A.eventRank} = :eventRank, #${A.eventType} = :eventType, #${A.purchaserId} = :purchaserId, ` +
  `#${A.familyId} = :familyId, #${A.updatedAt} = :now`;

const UPDATE_EXPRESSION = {
  // A grant over a grant keeps the start of the uninterrupted grant; after a revoke it starts anew.
  grant: `${SET_EVENT}, #${A.grantedAt} = if_not_exists(#${A.grantedAt}, :now)`,
  revoke: `${SET_EVENT} REMOVE #${A.grantedAt}`,
} as const;

/** Where a write goes. */
export interface WriteTarget {
  client: DynamoDBDocumentClient;
  tableName: string;
  userId: string;
}

/**
 * Applies a validated `change` to `target.userId`'s entitlement, stamping it with `now` (ISO).
 *
 * @throws EntitlementStoreError `ENTITLEMENT_WRITE_FAILED` when DynamoDB fails, or when the
 *   condition failed and the item that failed it cannot be read.
 */
export async function writeEntitlement(target: WriteTarget, change: EntitlementChange, now: string): Promise<ApplyOutcome> {
  const { client, tableName, userId } = target;
  const key = { [A.userId]: userId, [A.entitlement]: change.entitlement };
  const what = `cannot ${change.action} entitlement ${show(change.entitlement)} of user ${show(userId)} for event ${change.eventId}`;
  try {
    await client.send(
      new UpdateCommand({
        TableName: tableName,
        Key: key,
        UpdateExpression: UPDATE_EXPRESSION[change.action],
        ConditionExpression: IS_LATER_EVENT,
        ExpressionAttributeNames: WRITE_NAMES,
        ExpressionAttributeValues: {
          ':status': change.action === 'grant' ? 'granted' : 'revoked',
          ':eventId': change.eventId,
          ':eventCreated': change.eventCreated,
          ':eventRank': ACTION_RANK[change.action],
          ':eventType': change.eventType,
          ':purchaserId': change.purchaserId,
          ':familyId': change.familyId,
          ':now': now,
        },
        // DynamoDB hands back the item that failed the condition, at no extra cost.
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
    return 'applied';
  } catch (error) {
    // By name, not instanceof: a caller's client may come from another copy of the SDK.
    if ((error as { name?: unknown }).name !== 'ConditionalCheckFailedException') {
      throw userFailure('ENTITLEMENT_WRITE_FAILED', what, target, error);
    }
    let stored: string;
    try {
      stored = await storedEventId(target, key, error);
    } catch (cause) {
      throw userFailure('ENTITLEMENT_WRITE_FAILED', `${what} (its condition failed, then reading the item failed)`, target, cause);
    }
    return stored === change.eventId ? 'duplicate' : 'superseded';
  }
}

/**
 * The event held by the item that failed the condition: from the exception when DynamoDB
 * returned it, else (dynalite ignores `ReturnValuesOnConditionCheckFailure`) from a strongly
 * consistent read. Between the two, a later event may have landed; `superseded` is then the
 * true answer anyway.
 */
async function storedEventId(target: WriteTarget, key: Record<string, string>, conditionFailure: unknown): Promise<string> {
  const returned = (conditionFailure as { Item?: Record<string, { S?: string }> }).Item?.[A.eventId]?.S;
  if (returned !== undefined) return returned;
  const { Item } = await target.client.send(
    new GetCommand({
      TableName: target.tableName,
      Key: key,
      ProjectionExpression: `#${A.eventId}`,
      ExpressionAttributeNames: { [`#${A.eventId}`]: A.eventId },
      ConsistentRead: true,
    }),
  );
  const eventId: unknown = Item?.[A.eventId];
  // The condition only fails on an existing item, and the store never deletes one: someone else did.
  if (typeof eventId !== 'string') throw new Error(`item ${JSON.stringify(key)} vanished or has no ${A.eventId}`);
  return eventId;
}
