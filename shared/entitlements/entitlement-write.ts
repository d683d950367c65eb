/**
 * The store's one write: a conditional `UpdateItem` that applies an event to one member's
 * entitlement only if it comes after the event the item holds.
 *
 * The order is (`eventCreated`, `eventRank`, `eventId`), see `compareEventOrder`. The write
 * happens when no item exists or the stored event comes strictly before the new one, and never
 * when the stored event is the new one. DynamoDB evaluates the condition and the write
 * atomically per item, so two containers racing with one event get one `applied` between them.
 *
 * A family's writes differ only in their key, so everything else is built once per change
 * (`prepareWrite`) and shared by its members' commands; the values are written in DynamoDB's
 * own attribute-value form (the table holds strings and numbers only), so no marshalling runs
 * per write. A 50-member fan-out is bound by the client's CPU per request, not by waiting.
 */
import {
  GetItemCommand,
  UpdateItemCommand,
  type AttributeValue,
  type DynamoDBClient,
  type UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
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

/** The update of `change`: a grant over a grant keeps the start of the uninterrupted grant; after a revoke it starts anew. */
function updateExpression(change: EntitlementChange): string {
  if (change.action === 'revoke') return `${SET_EVENT} REMOVE #${A.grantedAt}, #${A.expiresAt}`;
  const grant = `${SET_EVENT}, #${A.grantedAt} = if_not_exists(#${A.grantedAt}, :now)`;
  // A lapsing grant (a past-due grace) records its end; any other grant ends a lapse.
  return change.expiresAt === undefined ? `${grant} REMOVE #${A.expiresAt}` : `${grant}, #${A.expiresAt} = :expiresAt`;
}

/** One validated change, ready to be written to any member of `tableName`. */
export interface PreparedWrite {
  tableName: string;
  change: EntitlementChange;
  /** The request without its `Key`: the same for every member. */
  request: Readonly<Omit<UpdateItemCommandInput, 'Key'>>;
}

/** Builds what every member's write of `change` shares, stamped with `now` (ISO). */
export function prepareWrite(tableName: string, change: EntitlementChange, now: string): PreparedWrite {
  return {
    tableName,
    change,
    request: {
      TableName: tableName,
      UpdateExpression: updateExpression(change),
      ConditionExpression: IS_LATER_EVENT,
      ExpressionAttributeNames: WRITE_NAMES,
      ExpressionAttributeValues: {
        ':status': { S: change.action === 'grant' ? 'granted' : 'revoked' },
        ':eventId': { S: change.eventId },
        ':eventCreated': { N: String(change.eventCreated) },
        ':eventRank': { N: String(ACTION_RANK[change.action]) },
        ':eventType': { S: change.eventType },
        ':purchaserId': { S: change.purchaserId },
        ':familyId': { S: change.familyId },
        ':now': { S: now },
        ...(change.expiresAt === undefined ? {} : { ':expiresAt': { N: String(change.expiresAt) } }),
      },
      // DynamoDB hands back the item that failed the condition, at no extra cost.
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    },
  };
}

/** The key of `userId`'s item for `entitlement`, as DynamoDB takes it. */
export function entitlementKey(userId: string, entitlement: string): Record<string, AttributeValue> {
  return { [A.userId]: { S: userId }, [A.entitlement]: { S: entitlement } };
}

/**
 * Applies a prepared change to `userId`'s entitlement.
 *
 * @throws EntitlementStoreError `ENTITLEMENT_WRITE_FAILED` when DynamoDB fails, or when the
 *   condition failed and the item that failed it cannot be read.
 */
export async function writeEntitlement(client: DynamoDBClient, write: PreparedWrite, userId: string): Promise<ApplyOutcome> {
  const { change, tableName } = write;
  const key = entitlementKey(userId, change.entitlement);
  try {
    await client.send(new UpdateItemCommand({ ...write.request, Key: key }));
    return 'applied';
  } catch (error) {
    const what = () => `cannot ${change.action} entitlement ${show(change.entitlement)} of user ${show(userId)} for event ${change.eventId}`;
    // By name, not instanceof: a caller's client may come from another copy of the SDK.
    if ((error as { name?: unknown }).name !== 'ConditionalCheckFailedException') {
      throw userFailure('ENTITLEMENT_WRITE_FAILED', what(), { tableName, userId }, error);
    }
    let stored: string;
    try {
      stored = await storedEventId(client, tableName, key, error);
    } catch (cause) {
      throw userFailure('ENTITLEMENT_WRITE_FAILED', `${what()} (its condition failed, then reading the item failed)`, { tableName, userId }, cause);
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
async function storedEventId(
  client: DynamoDBClient,
  tableName: string,
  key: Record<string, AttributeValue>,
  conditionFailure: unknown,
): Promise<string> {
  const returned = (conditionFailure as { Item?: Record<string, AttributeValue | undefined> }).Item?.[A.eventId]?.S;
  if (returned !== undefined) return returned;
  const { Item } = await client.send(
    new GetItemCommand({
      TableName: tableName,
      Key: key,
      ProjectionExpression: `#${A.eventId}`,
      ExpressionAttributeNames: { [`#${A.eventId}`]: A.eventId },
      ConsistentRead: true,
    }),
  );
  const eventId = Item?.[A.eventId]?.S;
  // The condition only fails on an existing item, and the store never deletes one: someone else did.
  if (eventId === undefined) {
    throw new Error(`item (${A.userId} ${show(key[A.userId]?.S)}, ${A.entitlement} ${show(key[A.entitlement]?.S)}) vanished or has no string ${A.eventId}`);
  }
  return eventId;
}
