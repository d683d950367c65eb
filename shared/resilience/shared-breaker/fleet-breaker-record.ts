import type { BreakerStateName } from '../circuit-breaker.js';

/** Attribute names of the `mesh-state` table that its CDK definition needs too. */
export const MESH_STATE_ATTRIBUTES = {
  /** The partition key (string): `breaker#<service>` for a service's fleet breaker. */
  key: 'pk',
  /** DynamoDB TTL attribute (epoch seconds): an item no transition touched for a day goes away. */
  expiresAt: 'expiresAt',
} as const;

/**
 * A service's breaker as the fleet shares it: one item, written only on transitions.
 *
 * `open` with a live lease is what the fleet sees as half-open: one container, the lease's owner,
 * is probing. A missing item is a closed breaker at version 0.
 */
export interface FleetBreakerRecord {
  state: 'open' | 'closed';
  /** Incremented by every transition; conditional writes name the version they build on. */
  version: number;
  /** Epoch ms of the opening (or of the last failed probe); probes are due `openMs` after it. */
  openedAt?: number;
  /** Epoch ms of the last closing: the start of the fleet's slow start. */
  closedAt?: number;
  /** The container that opened it (or failed the last probe), for the logs. */
  openedBy?: string;
  /** The container elected to probe, until `leaseUntil` (epoch ms). */
  leaseOwner?: string;
  leaseUntil?: number;
}

/** The fleet breaker of a service that has no item yet. */
export const CLOSED_RECORD: Readonly<FleetBreakerRecord> = Object.freeze({ state: 'closed', version: 0 });

/** The fleet's state of a record at `now`: `half-open` while an elected prober's lease runs. */
export function fleetStateOf(record: FleetBreakerRecord, now: number): BreakerStateName {
  if (record.state === 'closed') return 'closed';
  return record.leaseUntil !== undefined && record.leaseUntil > now ? 'half-open' : 'open';
}

/** The partition key of `service`'s fleet breaker. */
export function breakerKey(service: string): string {
  return `breaker#${service}`;
}
