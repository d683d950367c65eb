/**
 * What one design's run measured: the figures of the report and the minute-by-minute timeline.
 */
import type { FleetDesign } from './fleet-designs.js';
import type { MinuteCounts } from './fleet-tally.js';

/** One simulated minute, for the timeline. */
export interface TimelineMinute extends MinuteCounts {
  /** Minutes since the outage began (negative before). */
  minute: number;
  serviceUp: boolean;
  mappingState: string;
  /** Messages on the queue, visible or in flight. */
  queueDepth: number;
  dlq: number;
  batchesInParallel: number;
}

export interface DesignResult {
  design: FleetDesign['name'];
  eventsSent: number;
  poisonSent: number;
  /** Paid events (not poison) moved to the DLQ. */
  dlqPaidEvents: number;
  dlqPoison: number;
  /** Poison still on the queue at the end (received fewer than `maxReceiveCount` times so far). */
  poisonQueued: number;
  /** Contact-service call attempts made while it was down (every container and mesh-health). */
  downCalls: number;
  /** (event, member) pairs that took effect more than once. */
  duplicates: number;
  /** Paid events neither applied nor in the DLQ nor still queued at the end: lost. */
  lost: number;
  /**
   * Minutes from the service's return until no paid event sent during the outage is left on the
   * queue; `undefined`: not within `maxDrainMinutes`. Poison is left out: it ends in the DLQ on its
   * own schedule, and the run does not wait for it.
   */
  drainMinutes: number | undefined;
  /** Most contact-service calls in flight at once after its return (measured by the service). */
  maxInflightAfterRecovery: number;
  /** MaximumConcurrency (or the function's concurrency) × the bulkhead. */
  maxInflightAllowed: number;
  breakerOpened: number;
  /** While the service was up (before the outage and after its return): failed attempts and refused calls by code. */
  failuresWhileUp: Record<string, number>;
  invocations: number;
  /** Containers that cold-started. */
  containersStarted: number;
  /** Mean real duration of an invocation whose records all succeeded (after the return). */
  meanBatchMs: number;
  recordsDelivered: number;
  visibilityChanges: number;
  mappingUpdates: number;
  minutesPaused: number;
  /** DynamoDB requests by `<table> <operation>` during the run. */
  dynamoRequests: Record<string, number>;
  simulatedMinutes: number;
  realSeconds: number;
  timeline: TimelineMinute[];
}
