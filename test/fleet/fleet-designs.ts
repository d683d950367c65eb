/**
 * The two designs the simulation runs side by side, as deployment settings: today's (every
 * container its own breaker, failed records back after the visibility timeout, the mapping never
 * paused, no MaximumConcurrency) and the shared one of issue #16 (one breaker for the fleet in
 * `mesh-state`, visibility backoff, mesh-health pausing the mapping, MaximumConcurrency).
 */
export type DesignName = 'per-container' | 'shared';

export interface FleetDesign {
  name: DesignName;
  /** Environment of every container of the design; `undefined` unsets a variable. */
  env: Record<string, string | undefined>;
  /** The mapping's `ScalingConfig.MaximumConcurrency`; none today. */
  maximumConcurrency: number | undefined;
  /** How often mesh-health runs. */
  healthScheduleMinutes: number;
  /** The queue's redrive policy: receives before the DLQ. */
  maxReceiveCount: number;
  /** The queue's `MessageRetentionPeriod`. */
  retentionDays: number;
}

/** The mesh-state table's name in the simulation. */
export const MESH_STATE_TABLE = 'mesh-state';

/** Today's design, as deployed before issue #16 (mesh-health every 5 minutes, the CDK default). */
export function perContainerDesign(): FleetDesign {
  return {
    name: 'per-container',
    env: { MESH_STATE_TABLE: undefined, CIRCUIT_BREAKER_SHARED: 'false', QUEUE_BACKOFF_ENABLED: 'false', GRANT_EVENT_SOURCE_MAPPING_ID: undefined },
    maximumConcurrency: undefined,
    healthScheduleMinutes: 5,
    maxReceiveCount: 5,
    retentionDays: 4,
  };
}

/**
 * Issue #16's design with the CDK app's defaults for it (cdk/config.ts): MaximumConcurrency 20,
 * mesh-health every minute, 12 receives (with the default backoff, over more than 24 hours),
 * 14 days' retention.
 */
export function sharedDesign(mappingUuid: string, maximumConcurrency = 20): FleetDesign {
  return {
    name: 'shared',
    env: { MESH_STATE_TABLE, CIRCUIT_BREAKER_SHARED: 'true', QUEUE_BACKOFF_ENABLED: 'true', GRANT_EVENT_SOURCE_MAPPING_ID: mappingUuid },
    maximumConcurrency,
    healthScheduleMinutes: 1,
    maxReceiveCount: 12,
    retentionDays: 14,
  };
}
