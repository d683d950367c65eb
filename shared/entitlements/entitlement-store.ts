/**
 * The entitlements store: one DynamoDB table, one item per (member, entitlement).
 *
 * Table `ENTITLEMENTS_TABLE` (on-demand):
 *
 * | attribute      | type | meaning                                                              |
 * | -------------- | ---- | -------------------------------------------------------------------- |
 * | `userId`       | S    | partition key: the member who holds the entitlement                  |
 * | `entitlement`  | S    | sort key: the entitlement's name                                     |
 * | `status`       | S    | `granted` or `revoked`                                               |
 * | `eventId`      | S    | the provider event whose effect the item holds (the last applied)    |
 * | `eventCreated` | N    | that event's `created`, epoch seconds                                |
 * | `eventRank`    | N    | that event's action: 0 grant, 1 revoke, so revoke wins a tie on `eventCreated` |
 * | `eventType`    | S    | that event's type, for audit                                         |
 * | `purchaserId`  | S    | who paid (or cancelled)                                              |
 * | `familyId`     | S    | the purchaser's family; empty when none                              |
 * | `grantedAt`    | S    | ISO time the current, uninterrupted grant began; removed on revoke   |
 * | `updatedAt`    | S    | ISO time the last applied event took effect                          |
 * | `expiresAt`    | N    | epoch seconds a lapsing grant (a past-due grace) ends; absent otherwise |
 *
 * The table also holds the Stripe link items (`stripe-links.ts`): sort keys starting with `#`,
 * which `list` skips.
 *
 * Every apply is one conditional `UpdateItem` (`entitlement-write.ts`): it writes only when the
 * item is absent or holds an event that comes strictly before the new one in the order
 * (`eventCreated`, `eventRank`, `eventId`). So an event takes effect at most once per member, an
 * older event never overwrites a newer one (grant or revoke), revoke beats grant within the same
 * second, and two containers racing with one event get one `applied` between them. Only the
 * latest event per item is kept: a redelivered event that has since been overtaken answers
 * `superseded`, not `duplicate`.
 */
import { paginateQuery, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import pLimit, { type LimitFunction } from 'p-limit';
import {
  assertValidChange,
  assertValidChangeFields,
  assertValidUserId,
  show,
  type ApplyOutcome,
  type Entitlement,
  type EntitlementChange,
} from './entitlement-change.js';
import { EntitlementStoreError, describeError, userFailure } from './entitlement-store-error.js';
import { prepareWrite, writeEntitlement } from './entitlement-write.js';
import { defaultEntitlementsClient } from './entitlements-client.js';
import { ENTITLEMENT_ATTRIBUTES as A } from './entitlements-table.js';

export interface EntitlementStoreOptions {
  /** The entitlements table (`ENTITLEMENTS_TABLE`). */
  tableName: string;
  /**
   * The DynamoDB client, used as given. Default: one made for the store
   * (`defaultEntitlementsClient`): the SDK's defaults, so it honours `AWS_ENDPOINT_URL_DYNAMODB`,
   * with less CPU per request and sockets for `concurrency` writes.
   */
  client?: DynamoDBClient;
  /**
   * Most member writes in flight at once from this store, across all calls: the records of an
   * SQS batch share it (`ENTITLEMENTS_WRITE_CONCURRENCY` in grant-entitlements).
   *
   * 50 sends a 50-member family in one wave. Against a store answering each write in 5 ms, the
   * 50-member fan-out ran 5.3× faster than awaiting each write with 10 in flight, 5.9× with 25
   * and 8.4× with 50 (`npm run bench -- --only fanout`, medians of 4 interleaved runs on 2
   * shared cores); from 50 on, the client's CPU per request is the bound, not waiting. DynamoDB
   * takes it: each member is its own partition key, and 50 writes in flight from one container
   * are far below an on-demand table's throughput; a throttled write is retried by the SDK, then
   * by SQS (members already written answer `duplicate`). The cost is up to 50 sockets (TLS
   * sessions in AWS) per container, opened by its first family; the default client keeps at
   * least this many, so no write waits in the agent's queue for one.
   */
  concurrency?: number;
  /** The clock for `grantedAt`/`updatedAt`: read once per `apply`/`applyToMembers`. */
  now?: () => Date;
}

export const ENTITLEMENT_STORE_DEFAULTS = {
  concurrency: 50,
  now: (): Date => new Date(),
} as const;

/** Grants and revokes entitlements of family members, idempotently and in event order. */
export class EntitlementStore {
  readonly tableName: string;
  readonly #client: DynamoDBClient;
  readonly #now: () => Date;
  readonly #limit: LimitFunction;

  /**
   * Creates a store over `options.tableName`; no request is made until the first call.
   *
   * @throws EntitlementStoreError `ENTITLEMENT_INVALID_OPTIONS` for an empty table name or a
   *   concurrency that is not a positive integer.
   */
  constructor(options: EntitlementStoreOptions) {
    const { tableName, client, concurrency, now } = { ...ENTITLEMENT_STORE_DEFAULTS, ...options };
    if (typeof tableName !== 'string' || tableName === '') {
      throw new EntitlementStoreError('ENTITLEMENT_INVALID_OPTIONS', `table name must be a non-empty string, got ${show(tableName)}`);
    }
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new EntitlementStoreError('ENTITLEMENT_INVALID_OPTIONS', `concurrency must be a positive integer, got ${show(concurrency)}`);
    }
    this.tableName = tableName;
    this.#client = client ?? defaultEntitlementsClient(concurrency);
    this.#now = now;
    this.#limit = pLimit(concurrency);
  }

  /**
   * Applies `change` to one user's entitlement with one conditional `UpdateItem`.
   *
   * @throws EntitlementStoreError `ENTITLEMENT_INVALID_CHANGE` before any write;
   *   `ENTITLEMENT_WRITE_FAILED` when DynamoDB fails (the cause is the SDK's error).
   */
  async apply(userId: string, change: EntitlementChange): Promise<ApplyOutcome> {
    assertValidChange(userId, change);
    const write = prepareWrite(this.tableName, change, this.#now().toISOString());
    return this.#limit(() => writeEntitlement(this.#client, write, userId));
  }

  /**
   * Applies `change` to every member (each id once), at most `concurrency` writes at a time.
   * Every member is attempted even when some fail; then the failures are thrown together, and
   * the caller retries the whole change: members already written answer `duplicate`.
   *
   * @throws EntitlementStoreError `ENTITLEMENT_INVALID_CHANGE` before any write;
   *   `ENTITLEMENT_MEMBERS_FAILED` listing the failed members in `userIds`, caused by the first.
   */
  async applyToMembers(memberIds: readonly string[], change: EntitlementChange): Promise<Map<string, ApplyOutcome>> {
    assertValidChangeFields(change);
    const members = [...new Set(memberIds)];
    for (const userId of members) assertValidUserId(userId, change);

    const write = prepareWrite(this.tableName, change, this.#now().toISOString());
    const outcomes = new Map<string, ApplyOutcome>();
    const failures = new Map<string, unknown>();
    await Promise.all(
      members.map((userId) =>
        this.#limit(async () => {
          try {
            outcomes.set(userId, await writeEntitlement(this.#client, write, userId));
          } catch (error) {
            failures.set(userId, error);
          }
        }),
      ),
    );
    if (failures.size === 0) return outcomes;

    const failed = members.filter((userId) => failures.has(userId));
    const first = failures.get(failed[0]!);
    throw new EntitlementStoreError(
      'ENTITLEMENT_MEMBERS_FAILED',
      `${failed.length} of ${members.length} members were not written for event ${change.eventId} ` +
        `to table ${show(this.tableName)}: ${failed.map(show).join(', ')}; first: ${describeError(first)}`,
      { tableName: this.tableName, userIds: failed },
      { cause: first },
    );
  }

  /**
   * Lists a user's entitlements, granted and revoked, ordered by name (strongly consistent, so
   * a purchase is visible as soon as it is applied).
   *
   * @throws EntitlementStoreError `ENTITLEMENT_INVALID_USER_ID` for an empty id;
   *   `ENTITLEMENT_READ_FAILED` when DynamoDB fails or holds an item this store did not write.
   */
  async list(userId: string): Promise<Entitlement[]> {
    if (typeof userId !== 'string' || userId === '') {
      throw new EntitlementStoreError('ENTITLEMENT_INVALID_USER_ID', `user id must be a non-empty string, got ${show(userId)}`);
    }
    const entitlements: Entitlement[] = [];
    try {
      const pages = paginateQuery(
        { client: this.#client },
        {
          TableName: this.tableName,
          KeyConditionExpression: `#${A.userId} = :userId`,
          ExpressionAttributeNames: { [`#${A.userId}`]: A.userId },
          ExpressionAttributeValues: { ':userId': { S: userId } },
          ConsistentRead: true,
        },
      );
      for await (const page of pages) {
        for (const item of page.Items ?? []) {
          if (item[A.entitlement]?.S?.startsWith('#')) continue; // another item type (stripe-links.ts)
          entitlements.push(this.#entitlementFrom(userId, item));
        }
      }
    } catch (error) {
      if (error instanceof EntitlementStoreError) throw error;
      throw userFailure('ENTITLEMENT_READ_FAILED', `cannot list entitlements of user ${show(userId)}`, { tableName: this.tableName, userId }, error);
    }
    return entitlements;
  }

  #entitlementFrom(userId: string, item: Record<string, AttributeValue>): Entitlement {
    // Every attribute read here is a string (S); anything else is not this store's item.
    const name = item[A.entitlement]?.S;
    const status = item[A.status]?.S;
    const grantedAt = item[A.grantedAt]?.S;
    const updatedAt = item[A.updatedAt]?.S;
    const eventId = item[A.eventId]?.S;
    const expiresAtSeconds = item[A.expiresAt]?.N;
    if (
      name === undefined ||
      (status !== 'granted' && status !== 'revoked') ||
      (item[A.grantedAt] !== undefined && grantedAt === undefined) ||
      updatedAt === undefined ||
      eventId === undefined
    ) {
      throw userFailure('ENTITLEMENT_READ_FAILED', `entitlement ${show(name)} of user ${show(userId)} is not shaped like this store's items`, { tableName: this.tableName, userId });
    }
    const expiresAt = expiresAtSeconds === undefined ? undefined : new Date(Number(expiresAtSeconds) * 1000).toISOString();
    return { name, status, grantedAt, updatedAt, eventId, expiresAt };
  }
}
