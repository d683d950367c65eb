import type { AttributeValue, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BreakerStoreError } from './breaker-store-error.js';
import { breakerKey, CLOSED_RECORD, MESH_STATE_ATTRIBUTES, type FleetBreakerRecord } from './fleet-breaker-record.js';

/** What a conditional write came to: the record after it when won, the record that beat it when lost. */
export type FleetWrite = { won: true; record: FleetBreakerRecord } | { won: false; record: FleetBreakerRecord };

export interface MeshStateStoreOptions {
  /** The `mesh-state` table, name or ARN. */
  tableName: string;
  /** By default one with short timeouts; the SDK's standard settings (`AWS_ENDPOINT_URL_DYNAMODB`, …) apply. */
  client?: DynamoDBClient;
  /** Seconds an item lives after its last transition (the table's TTL attribute). */
  ttlSeconds?: number;
}

export const MESH_STATE_STORE_DEFAULTS = { ttlSeconds: 86_400 } satisfies Partial<MeshStateStoreOptions>;

/**
 * A breaker call waits for the store at most this long per attempt, twice: an unreachable table
 * must degrade a call by seconds at worst, once per read interval, never hang it.
 */
const STORE_CLIENT = { maxAttempts: 2, requestHandler: { connectionTimeout: 1000, requestTimeout: 3000 } } as const;

/**
 * The DynamoDB SDK, imported at the store's first request rather than with this module (the module
 * loader keeps it once loaded, and tries again after a failed load): a function that imports the
 * mesh layer without sharing its breakers never loads it; one that shares them preloads it at init
 * (`shared/cold-start/aws-sdk-preload.ts`).
 */
const loadDynamoDbSdk = () => import('@aws-sdk/client-dynamodb');

const N = (value: number): AttributeValue => ({ N: String(value) });
const S = (value: string): AttributeValue => ({ S: value });

/**
 * The fleet breakers' items in the `mesh-state` table: one read, and four conditional writes, each
 * one UpdateItem. Every write names the version (or state) it builds on, so containers racing for
 * the same transition produce exactly one winner and the losers learn the winner's record.
 *
 * DynamoDB returns the item that beat a write (`ReturnValuesOnConditionCheckFailure`); where an
 * implementation does not (dynalite), a consistent read stands in, costing one read per lost race.
 */
export class MeshStateStore {
  readonly tableName: string;
  readonly #given: DynamoDBClient | undefined;
  #client: DynamoDBClient | undefined;
  readonly #ttlSeconds: number;

  constructor(options: MeshStateStoreOptions) {
    this.tableName = options.tableName;
    this.#given = options.client;
    this.#ttlSeconds = options.ttlSeconds ?? MESH_STATE_STORE_DEFAULTS.ttlSeconds;
  }

  /**
   * Reads `service`'s fleet breaker; a missing item is closed at version 0.
   *
   * @throws {BreakerStoreError} `BREAKER_STORE_FAILED` when the table cannot be read.
   */
  async read(service: string, consistent = false): Promise<FleetBreakerRecord> {
    const output = await this.#send(service, 'read', async () => {
      const { sdk, client } = await this.#sdk();
      return client.send(new sdk.GetItemCommand({ TableName: this.tableName, Key: this.#key(service), ConsistentRead: consistent }));
    });
    return output.Item ? recordOf(output.Item, service) : { ...CLOSED_RECORD };
  }

  /** Opens the fleet breaker unless it is open already (then returns the open record, lost). */
  open(service: string, at: { now: number; by: string }): Promise<FleetWrite> {
    return this.#update(service, 'open', {
      update: 'SET #state = :open, #version = if_not_exists(#version, :zero) + :one, openedAt = :now, openedBy = :by, #ttl = :ttl REMOVE leaseOwner, leaseUntil',
      condition: 'attribute_not_exists(#pk) OR #state = :closed',
      values: { ':open': S('open'), ':closed': S('closed'), ':zero': N(0), ':one': N(1), ':now': N(at.now), ':by': S(at.by) },
      now: at.now,
    });
  }

  /**
   * Elects `owner` to probe: wins only while the breaker is open at `version`, its probe is due
   * (opened at or before `dueBefore`) and no other prober's lease runs at `now`.
   */
  acquireProbe(service: string, at: { version: number; owner: string; now: number; dueBefore: number; leaseMs: number }): Promise<FleetWrite> {
    return this.#update(service, 'elect prober', {
      update: 'SET leaseOwner = :owner, leaseUntil = :until, #ttl = :ttl',
      condition: '#state = :open AND #version = :v AND openedAt <= :due AND (attribute_not_exists(leaseUntil) OR leaseUntil <= :now)',
      values: { ':open': S('open'), ':v': N(at.version), ':owner': S(at.owner), ':until': N(at.now + at.leaseMs), ':due': N(at.dueBefore), ':now': N(at.now) },
      now: at.now,
    });
  }

  /** Closes the breaker after `owner`'s probes succeeded; only the holder of the lease at `version` may. */
  close(service: string, at: { version: number; owner: string; now: number }): Promise<FleetWrite> {
    return this.#update(service, 'close', {
      update: 'SET #state = :closed, #version = #version + :one, closedAt = :now, #ttl = :ttl REMOVE leaseOwner, leaseUntil',
      condition: '#version = :v AND leaseOwner = :owner',
      values: { ':closed': S('closed'), ':one': N(1), ':v': N(at.version), ':owner': S(at.owner), ':now': N(at.now) },
      now: at.now,
    });
  }

  /** Opens the breaker again after `owner`'s probe failed: the next probe is due `openMs` from now. */
  reopen(service: string, at: { version: number; owner: string; now: number }): Promise<FleetWrite> {
    return this.#update(service, 'reopen', {
      update: 'SET #version = #version + :one, openedAt = :now, openedBy = :owner, #ttl = :ttl REMOVE leaseOwner, leaseUntil',
      condition: '#version = :v AND leaseOwner = :owner',
      values: { ':one': N(1), ':v': N(at.version), ':owner': S(at.owner), ':now': N(at.now) },
      now: at.now,
    });
  }

  /** The SDK module and the client, both made on first use (the client with {@link STORE_CLIENT}'s limits). */
  async #sdk(): Promise<{ sdk: typeof import('@aws-sdk/client-dynamodb'); client: DynamoDBClient }> {
    const sdk = await loadDynamoDbSdk();
    this.#client ??= this.#given ?? new sdk.DynamoDBClient(STORE_CLIENT);
    return { sdk, client: this.#client };
  }

  #key(service: string): Record<string, AttributeValue> {
    return { [MESH_STATE_ATTRIBUTES.key]: S(breakerKey(service)) };
  }

  async #update(
    service: string,
    operation: string,
    write: { update: string; condition: string; values: Record<string, AttributeValue>; now: number },
  ): Promise<FleetWrite> {
    // Only the names an expression uses may be declared: DynamoDB rejects unused ones.
    const names = Object.fromEntries(
      Object.entries({ '#pk': MESH_STATE_ATTRIBUTES.key, '#state': 'state', '#version': 'version', '#ttl': MESH_STATE_ATTRIBUTES.expiresAt }).filter(
        ([placeholder]) => write.update.includes(placeholder) || write.condition.includes(placeholder),
      ),
    );
    const values = { ...write.values, ':ttl': N(Math.floor(write.now / 1000) + this.#ttlSeconds) };
    let sdk: typeof import('@aws-sdk/client-dynamodb') | undefined;
    try {
      const loaded = await this.#sdk();
      sdk = loaded.sdk;
      const output = await loaded.client.send(
        new sdk.UpdateItemCommand({
          TableName: this.tableName,
          Key: this.#key(service),
          UpdateExpression: write.update,
          ConditionExpression: write.condition,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { won: true, record: recordOf(output.Attributes ?? {}, service) };
    } catch (error) {
      if (sdk === undefined || !(error instanceof sdk.ConditionalCheckFailedException)) throw storeError(service, operation, error);
      const record = error.Item ? recordOf(error.Item, service) : await this.read(service, true);
      return { won: false, record };
    }
  }

  async #send<T>(service: string, operation: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      throw storeError(service, operation, error);
    }
  }
}

function storeError(service: string, operation: string, error: unknown): BreakerStoreError {
  const name = error instanceof Error ? error.name : typeof error;
  return new BreakerStoreError(
    'BREAKER_STORE_FAILED',
    `the mesh-state table must answer the ${operation} of ${service}'s fleet breaker, got ${name}`,
    { service, operation },
    { cause: error },
  );
}

/** Reads an item; a malformed one is a store error, not a breaker state to guess at. */
function recordOf(item: Record<string, AttributeValue>, service: string): FleetBreakerRecord {
  const state = item.state?.S;
  const version = Number(item.version?.N);
  if ((state !== 'open' && state !== 'closed') || !Number.isInteger(version)) {
    throw new BreakerStoreError(
      'BREAKER_STORE_MALFORMED',
      `a fleet breaker item must have state open or closed and an integer version, got state ${JSON.stringify(state)} for ${service}`,
      { service, operation: 'read' },
    );
  }
  const record: FleetBreakerRecord = { state, version };
  const number = (name: string) => (item[name]?.N === undefined ? undefined : Number(item[name].N));
  const openedAt = number('openedAt');
  const closedAt = number('closedAt');
  const leaseUntil = number('leaseUntil');
  if (openedAt !== undefined) record.openedAt = openedAt;
  if (closedAt !== undefined) record.closedAt = closedAt;
  if (leaseUntil !== undefined) record.leaseUntil = leaseUntil;
  if (item.openedBy?.S !== undefined) record.openedBy = item.openedBy.S;
  if (item.leaseOwner?.S !== undefined) record.leaseOwner = item.leaseOwner.S;
  return record;
}
