import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { EntitlementChange } from '../../../shared/entitlements/index.js';
import { LOCAL_DYNAMO_CREDENTIALS, LOCAL_DYNAMO_REGION } from '../../local/dynalite.js';

/** A grant of `premium` by purchaser `u-1` of family `f-1`; override what a test is about. */
export function change(overrides: Partial<EntitlementChange> = {}): EntitlementChange {
  return {
    action: 'grant',
    entitlement: 'premium',
    eventId: 'evt_1',
    eventCreated: 1_700_000_000,
    eventType: 'checkout.session.completed',
    purchaserId: 'u-1',
    familyId: 'f-1',
    ...overrides,
  };
}

/** `count` member ids, `member-00`…, sorted as they print. */
export function memberIds(count: number, prefix = 'member'): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}-${String(i).padStart(2, '0')}`);
}

/** A clock that answers `t0`, `t0 + 1 s`, … one tick per call. */
export function tickingClock(t0 = Date.parse('2025-01-01T00:00:00.000Z')): () => Date {
  let ticks = 0;
  return () => new Date(t0 + 1000 * ticks++);
}

/**
 * A client of its own (its own sockets and middleware stack), as a separate Lambda container
 * would have; `destroy` it when done.
 */
export function containerClient(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({ endpoint, region: LOCAL_DYNAMO_REGION, credentials: LOCAL_DYNAMO_CREDENTIALS });
}

/** The DynamoDB operation and the `userId` of the key of a request, once marshalled (build step). */
export function requestOf(args: { input: unknown }, context: { commandName?: string }) {
  const input = args.input as { Key?: { userId?: { S?: string } } };
  return { command: context.commandName ?? '', userId: input.Key?.userId?.S };
}

/** A client middleware, typed as much as these tests need (the SDK's types are not a direct dependency). */
export type SendMiddleware = (
  next: (args: { input: unknown }) => Promise<unknown>,
  context: { commandName?: string },
) => (args: { input: unknown }) => Promise<unknown>;

/** Adds `middleware` at the build step (once per send, before retries) and returns its remover. */
export function intercept(client: DynamoDBClient, name: string, middleware: SendMiddleware) {
  client.middlewareStack.add(middleware as never, { step: 'build', name });
  return () => client.middlewareStack.remove(name);
}

/** Counts sends in flight on `client`, holding each one `holdMs` so that they overlap. */
export function countInFlight(client: DynamoDBClient, holdMs = 5) {
  const counts = { inFlight: 0, maxInFlight: 0, sends: 0 };
  intercept(client, 'countInFlight', (next) => async (args) => {
    counts.sends += 1;
    counts.inFlight += 1;
    counts.maxInFlight = Math.max(counts.maxInFlight, counts.inFlight);
    try {
      await new Promise((resolve) => setTimeout(resolve, holdMs));
      return await next(args);
    } finally {
      counts.inFlight -= 1;
    }
  });
  return counts;
}
