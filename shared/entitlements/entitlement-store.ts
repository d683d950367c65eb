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
 *
 * Every apply is one conditional `UpdateItem` (`entitlement-write.ts`): it writes only when the
 * item is absent or holds an event that comes strictly before the new one in the order
 * (`eventCreated`, `eventRank`, `eventId`). So an event takes effect at most once per member, an
 * older event never overwrites a newer one (grant or revoke), revoke beats grant within the same
 * second, and two containers racing with one event get one `applied` between them. Only the
 * latest event per item is kept: a redelivered event that has since been overtaken answers
 * `superseded`, not `duplicate`.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, paginateQuery } from '@aws-sdk/lib-dynamodb';
import pLimit, { type LimitFunction } from 'p-limit';
import {
  assertValidChange,
  assertValidChangeFields,
  show,
  type ApplyOutcome,
  type Entitlement,
  type EntitlementChange,
} from './entitlement-change.js';
import { EntitlementStoreError, describeError, userFailure } from './entitlement-store-error.js';
import { writeEntitlement } from './entitlement-write.js';
import { ENTITLEMENT_ATTRIBUTES as A } from './entitlements-table.js';

export interface EntitlementStoreOptions {
  /** The entitlements table (`ENTITLEMENTS_TABLE`). */
  tableName: string;
  /** Default: the SDK's default client, which honours `AWS_ENDPOINT_URL_DYNAMODB`. */
  client?: DynamoDBDocumentClient;
  /** Most member writes in flight at once from this store, across all calls. */
  concurrency?: number;
  /** The clock for `grantedAt`/`updatedAt`. */
  now?: () => Date;
}

export const ENTITLEMENT_STORE_DEFAULTS = {
  concurrency: 10,
  now: (): Date => new Date(),
} as const;

/** Grants and revokes entitlements of family members, idempotently and in event order. */
export class EntitlementStore {
  readonly tableName: string;
  readonly #client: DynamoDBDocumentClient;
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
    this.#client = client ?? DynamoDBDocumentClient.from(new DynamoDBClient({}));
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
    return this.#limit(() => this.#write(userId, change));
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
    for (const userId of members) assertValidChange(userId, change);

    const outcomes = new Map<string, ApplyOutcome>();
    const failures = new Map<string, unknown>();
    await Promise.all(
      members.map((userId) =>
        this.#limit(async () => {
          try {
            outcomes.set(userId, await this.#write(userId, change));
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
          ExpressionAttributeValues: { ':userId': userId },
          ConsistentRead: true,
        },
      );
      for await (const page of pages) {
        for (const item of page.Items ?? []) entitlements.push(this.#entitlementFrom(userId, item));
      }
    } catch (error) {
      if (error instanceof EntitlementStoreError) throw error;
      throw userFailure('ENTITLEMENT_READ_FAILED', `cannot list entitlements of user ${show(userId)}`, { tableName: this.tableName, userId }, error);
    }
    return entitlements;
  }

  #write(userId: string, change: EntitlementChange): Promise<ApplyOutcome> {
    return writeEntitlement({ client: this.#client, tableName: this.tableName, userId }, change, this.#now().toISOString());
  }

  #entitlementFrom(userId: string, item: Record<string, unknown>): Entitlement {
    const { [A.entitlement]: name, [A.status]: status, [A.grantedAt]: grantedAt, [A.updatedAt]: updatedAt, [A.eventId]: eventId } = item;
    if (
      typeof name !== 'string' ||
      (status !== 'granted' && status !== 'revoked') ||
      (grantedAt !== undefined && typeof grantedAt !== 'string') ||
      typeof updatedAt !== 'string' ||
      typeof eventId !== 'string'
    ) {
      throw userFailure('ENTITLEMENT_READ_FAILED', `entitlement ${show(name)} of user ${show(userId)} is not shaped like this store's items`, { tableName: this.tableName, userId });
    }
    return { name, status, grantedAt, updatedAt, eventId };
  }
}
