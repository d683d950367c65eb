/**
 * What a fleet run can be told, and its defaults: the (50 containers, 10 events/s, a
 * 2-hour outage) and the CDK app's (60 s function timeout, batches of 10, 5 receives, bulkhead 16).
 */
export interface FleetOptions {
  /** grant-entitlements containers the function may run at once. */
  containers: number;
  /** Paid events per simulated second. */
  eventsPerSecond: number;
  /** How long the contact-service is down. */
  outageMinutes: number;
  /** Normal operation before the outage. */
  warmupMinutes: number;
  /** Gives up waiting for the backlog this long after the service's return. */
  maxDrainMinutes: number;
  /** grant-entitlements' timeout; the queue's visibility timeout is 6× this plus the batching window. */
  functionTimeoutSeconds: number;
  batchSize: number;
  /** One in this many messages is not a command at all: poison, which must still reach the DLQ. */
  poisonEvery: number;
  /** Contact-service calls one container lets in flight (the bulkhead's `maxConcurrentCalls`). */
  bulkhead: number;
  /** Seeds which idle container serves each batch, so a run can be replayed. */
  seed: number;
  /** Progress lines (the CLI prints them). */
  progress?: (line: string) => void;
}

export const FLEET_DEFAULTS: FleetOptions = {
  containers: 50,
  eventsPerSecond: 10,
  outageMinutes: 120,
  warmupMinutes: 2,
  maxDrainMinutes: 90,
  functionTimeoutSeconds: 60,
  batchSize: 10,
  poisonEvery: 5_000,
  bulkhead: 16,
  seed: 20_261_202,
};
