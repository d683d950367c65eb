/**
 * Which user a Stripe object belongs to, and which Stripe features a customer has held: two more
 * item types in the entitlements table, beside the entitlements themselves.
 *
 * | item | `userId` (partition) | `entitlement` (sort) | attributes |
 * | --- | --- | --- | --- |
 * | link | `stripe#<id>` (`sub_…`, `cus_…`, `pi_…`, `ch_…`) | `#link` | `linkedUserId`, `eventId`, `eventCreated` |
 * | feature set | `stripe#<cus_…>` | `#features` | `features` (SS: every feature lookup key a summary listed), `summaryEventId`, `summaryEventCreated`, `summaryFeatures` (L) |
 *
 * Sort keys starting with `#` are reserved (no entitlement name may start with `#`), and the
 * `stripe#` partition keys are not user ids, so the entitlements of a user never meet these items.
 * One table keeps the deployment as it was: grant-entitlements already reads and writes it.
 */
import { GetItemCommand, UpdateItemCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { show } from './entitlement-change.js';
import { userFailure } from './entitlement-store-error.js';
import { defaultEntitlementsClient } from './entitlements-client.js';
import { ENTITLEMENT_ATTRIBUTES as A } from './entitlements-table.js';

/** The partition key prefix of every Stripe item. */
export const STRIPE_ITEM_PREFIX = 'stripe#';
/** The sort keys of the two item types. */
export const LINK_SORT_KEY = '#link';
export const FEATURES_SORT_KEY = '#features';

/** The position of the event that wrote an item (the store's order, without the action rank). */
export interface LinkOrder {
  eventId: string;
  eventCreated: number;
}

/** A Stripe Entitlements summary as recorded: the features it listed, and the event that said so. */
export interface FeatureSummary extends LinkOrder {
  features: string[];
}

export interface StripeLinkStoreOptions {
  tableName: string;
  /** Default: the entitlements store's client (`defaultEntitlementsClient`). */
  client?: DynamoDBClient;
}

// Written flat, as the entitlement writes: nested parentheses cost dynalite's parser dearly.
const IS_NEWER = `attribute_not_exists(#${A.userId}) OR #${A.eventCreated} < :eventCreated OR (#${A.eventCreated} = :eventCreated AND #${A.eventId} < :eventId)`;
const IS_NEWER_SUMMARY =
  'attribute_not_exists(#summaryEventId) OR #summaryEventCreated < :eventCreated OR (#summaryEventCreated = :eventCreated AND #summaryEventId < :eventId)';

const isConditionFailure = (error: unknown) => (error as { name?: unknown }).name === 'ConditionalCheckFailedException';

/** Records and resolves the owners of Stripe objects, idempotently and in event order. */
export class StripeLinkStore {
  readonly tableName: string;
  readonly #client: DynamoDBClient;

  constructor(options: StripeLinkStoreOptions) {
    this.tableName = options.tableName;
    this.#client = options.client ?? defaultEntitlementsClient(1);
  }

  /**
   * Records that every one of `refs` belongs to `userId`, as of the event at `order`: one
   * conditional write per id, which an older event (or the same one again) never overwrites.
   *
   * @throws EntitlementStoreError `ENTITLEMENT_WRITE_FAILED` when DynamoDB fails.
   */
  async link(refs: readonly string[], userId: string, order: LinkOrder): Promise<void> {
    await Promise.all(
      [...new Set(refs)].map(async (ref) => {
        try {
          await this.#client.send(
            new UpdateItemCommand({
              TableName: this.tableName,
              Key: key(ref, LINK_SORT_KEY),
              UpdateExpression: `SET #linkedUserId = :userId, #${A.eventId} = :eventId, #${A.eventCreated} = :eventCreated`,
              ConditionExpression: IS_NEWER,
              ExpressionAttributeNames: {
                '#linkedUserId': 'linkedUserId',
                [`#${A.userId}`]: A.userId,
                [`#${A.eventId}`]: A.eventId,
                [`#${A.eventCreated}`]: A.eventCreated,
              },
              ExpressionAttributeValues: {
                ':userId': { S: userId },
                ':eventId': { S: order.eventId },
                ':eventCreated': { N: String(order.eventCreated) },
              },
            }),
          );
        } catch (error) {
          if (isConditionFailure(error)) return; // a newer or the same event linked it already
          throw userFailure('ENTITLEMENT_WRITE_FAILED', `cannot link stripe object ${show(ref)} to user ${show(userId)} for event ${order.eventId}`, { tableName: this.tableName, userId }, error);
        }
      }),
    );
  }

  /**
   * The user the first linked id of `refs` belongs to (strongly consistent reads, in order), or
   * `undefined` when none is linked yet.
   *
   * @throws EntitlementStoreError `ENTITLEMENT_READ_FAILED` when DynamoDB fails.
   */
  async userOf(refs: readonly string[]): Promise<{ ref: string; userId: string } | undefined> {
    for (const ref of refs) {
      const item = await this.#get(ref, LINK_SORT_KEY, 'linkedUserId');
      const userId = item?.['linkedUserId']?.S;
      if (userId) return { ref, userId };
    }
    return undefined;
  }

  /**
   * Records a customer's Entitlements summary: adds its features to every feature the customer's
   * summaries ever listed (a set union, so order does not matter), and keeps it as the newest
   * summary unless a newer one is already kept. Then reads both back: whatever order concurrent
   * summaries take, the last one to read sees every feature and the newest summary.
   *
   * @throws EntitlementStoreError `ENTITLEMENT_WRITE_FAILED` / `ENTITLEMENT_READ_FAILED`.
   */
  async recordFeatureSummary(
    customerId: string,
    summary: FeatureSummary,
    options: { complete?: boolean } = {},
  ): Promise<{ known: string[]; newest: FeatureSummary | undefined }> {
    const features = [...new Set(summary.features)];
    // A partial summary (`has_more`) only adds to the known features: it is never the newest word.
    if (options.complete === false) {
      if (features.length > 0) {
        await this.#addKnown(customerId, summary, features);
      }
      return this.#readFeatures(customerId);
    }
    const add = features.length > 0 ? ' ADD #features :features' : '';
    const values: Record<string, AttributeValue> = features.length > 0 ? { ':features': { SS: features } } : {};
    try {
      try {
        await this.#client.send(
          new UpdateItemCommand({
            TableName: this.tableName,
            Key: key(customerId, FEATURES_SORT_KEY),
            UpdateExpression: `SET #summaryEventId = :eventId, #summaryEventCreated = :eventCreated, #summaryFeatures = :list${add}`,
            ConditionExpression: IS_NEWER_SUMMARY,
            ExpressionAttributeNames: {
              '#summaryEventId': 'summaryEventId',
              '#summaryEventCreated': 'summaryEventCreated',
              '#summaryFeatures': 'summaryFeatures',
              ...(add ? { '#features': 'features' } : {}),
            },
            ExpressionAttributeValues: {
              ':eventId': { S: summary.eventId },
              ':eventCreated': { N: String(summary.eventCreated) },
              ':list': { L: features.map((f) => ({ S: f })) },
              ...values,
            },
          }),
        );
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
        // A newer summary is kept: only this one's features join the known set.
        if (add) await this.#addKnown(customerId, summary, features);
      }
    } catch (error) {
      throw userFailure('ENTITLEMENT_WRITE_FAILED', `cannot record the entitlement summary of ${show(customerId)} for event ${summary.eventId}`, { tableName: this.tableName, userId: customerId }, error);
    }
    const read = await this.#readFeatures(customerId);
    if (read.newest === undefined) {
      throw userFailure('ENTITLEMENT_READ_FAILED', `the entitlement summary of ${show(customerId)} vanished after event ${summary.eventId} wrote it`, { tableName: this.tableName, userId: customerId });
    }
    return read;
  }

  async #addKnown(customerId: string, summary: LinkOrder, features: string[]): Promise<void> {
    try {
      await this.#client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: key(customerId, FEATURES_SORT_KEY),
          UpdateExpression: 'ADD #features :features',
          ExpressionAttributeNames: { '#features': 'features' },
          ExpressionAttributeValues: { ':features': { SS: features } },
        }),
      );
    } catch (error) {
      throw userFailure('ENTITLEMENT_WRITE_FAILED', `cannot record the features of ${show(customerId)} for event ${summary.eventId}`, { tableName: this.tableName, userId: customerId }, error);
    }
  }

  async #readFeatures(customerId: string): Promise<{ known: string[]; newest: FeatureSummary | undefined }> {
    const item = await this.#get(customerId, FEATURES_SORT_KEY);
    const eventId = item?.['summaryEventId']?.S;
    const eventCreated = Number(item?.['summaryEventCreated']?.N);
    const newest =
      eventId === undefined || !Number.isFinite(eventCreated)
        ? undefined
        : { eventId, eventCreated, features: (item?.['summaryFeatures']?.L ?? []).flatMap((v) => (v.S === undefined ? [] : [v.S])) };
    return { known: [...(item?.['features']?.SS ?? [])].sort(), newest };
  }

  async #get(ref: string, sortKey: string, ...projection: string[]): Promise<Record<string, AttributeValue> | undefined> {
    try {
      const { Item } = await this.#client.send(
        new GetItemCommand({
          TableName: this.tableName,
          Key: key(ref, sortKey),
          ConsistentRead: true,
          ...(projection.length > 0
            ? { ProjectionExpression: projection.map((p) => `#${p}`).join(', '), ExpressionAttributeNames: Object.fromEntries(projection.map((p) => [`#${p}`, p])) }
            : {}),
        }),
      );
      return Item;
    } catch (error) {
      throw userFailure('ENTITLEMENT_READ_FAILED', `cannot read the ${sortKey.slice(1)} item of stripe object ${show(ref)}`, { tableName: this.tableName, userId: ref }, error);
    }
  }
}

function key(ref: string, sortKey: string): Record<string, AttributeValue> {
  return { [A.userId]: { S: `${STRIPE_ITEM_PREFIX}${ref}` }, [A.entitlement]: { S: sortKey } };
}
