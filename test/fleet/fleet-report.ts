/**
 * The fleet simulation's output: the two designs side by side against the goals, the shared
 * design's timeline, the capacity table, and the one-line JSON summary (`--json`).
 */
import { capacityTable } from './fleet-capacity.js';
import type { DesignResult, TimelineMinute } from './design-result.js';
import type { FleetOptions } from './fleet-options.js';

export interface FleetReport {
  options: Pick<FleetOptions, 'containers' | 'eventsPerSecond' | 'outageMinutes'>;
  perContainer: DesignResult;
  shared: DesignResult;
  realSeconds: number;
}

/** The goals of issue #16, checked against a report. */
export function fleetGoals(report: FleetReport): Record<string, boolean> {
  const { perContainer, shared } = report;
  return {
    no_paid_events_in_dlq: shared.dlqPaidEvents === 0,
    down_calls_at_most_2_percent: shared.downCalls <= 0.02 * perContainer.downCalls,
    no_duplicates: shared.duplicates === 0 && perContainer.duplicates === 0,
    drained_within_15_minutes: shared.drainMinutes !== undefined && shared.drainMinutes <= 15,
    inflight_within_bound: shared.maxInflightAfterRecovery <= shared.maxInflightAllowed,
  };
}

/** The one JSON object `--json` prints. */
export function fleetSummary(report: FleetReport): Record<string, unknown> {
  const { perContainer, shared, options } = report;
  return {
    containers: options.containers,
    events_per_second: options.eventsPerSecond,
    outage_minutes: options.outageMinutes,
    dlq_paid_events: shared.dlqPaidEvents,
    dlq_paid_events_per_container: perContainer.dlqPaidEvents,
    down_calls_shared: shared.downCalls,
    down_calls_per_container: perContainer.downCalls,
    duplicates: shared.duplicates,
    duplicates_per_container: perContainer.duplicates,
    lost: shared.lost,
    lost_per_container: perContainer.lost,
    drain_minutes: shared.drainMinutes ?? null,
    drain_minutes_per_container: perContainer.drainMinutes ?? null,
    max_inflight_after_recovery: shared.maxInflightAfterRecovery,
    max_inflight_after_recovery_per_container: perContainer.maxInflightAfterRecovery,
    max_inflight_allowed: shared.maxInflightAllowed,
    dlq_poison: shared.dlqPoison,
    minutes_paused: shared.minutesPaused,
    goals: fleetGoals(report),
    real_seconds: report.realSeconds,
  };
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => `| ${r.map((cell, i) => cell.padEnd(widths[i]!)).join(' | ')} |`).join('\n');
}

const orDash = (n: number | undefined) => (n === undefined ? `not within the run` : String(n));

/**
 * The minutes worth reading: the first and last, every 15th, a change of service or mapping state,
 * breakers closing, several opening at once, and calls failing while the service is up (a single
 * reopening by the elected prober, every other minute of an outage, is left out).
 */
export function notableMinutes(timeline: readonly TimelineMinute[]): TimelineMinute[] {
  return timeline.filter((m, i) => {
    const before = timeline[i - 1];
    return (
      before === undefined ||
      i === timeline.length - 1 ||
      m.minute % 15 === 0 ||
      m.serviceUp !== before.serviceUp ||
      m.mappingState !== before.mappingState ||
      m.breakerClosed > 0 ||
      m.breakerOpened > 1 ||
      (m.serviceUp && m.attempts > 0)
    );
  });
}

/** The human-readable report. */
export function formatFleetReport(report: FleetReport): string {
  const { perContainer: a, shared: b, options } = report;
  const goals = fleetGoals(report);
  const mark = (ok: boolean) => (ok ? 'met' : 'MISSED');
  const results = table([
    ['figure', 'per-container (today)', 'shared (issue #16)', 'goal'],
    ['calls that reached the down service', String(a.downCalls), String(b.downCalls), `≤ 2 % of today's: ${mark(goals.down_calls_at_most_2_percent!)}`],
    ['paid events in the DLQ', String(a.dlqPaidEvents), String(b.dlqPaidEvents), `0: ${mark(goals.no_paid_events_in_dlq!)}`],
    ['entitlements applied twice', String(a.duplicates), String(b.duplicates), `0: ${mark(goals.no_duplicates!)}`],
    ['minutes from the return until the backlog is drained', orDash(a.drainMinutes), orDash(b.drainMinutes), `≤ 15: ${mark(goals.drained_within_15_minutes!)}`],
    ['most calls in flight after the return', String(a.maxInflightAfterRecovery), String(b.maxInflightAfterRecovery), `≤ ${b.maxInflightAllowed}: ${mark(goals.inflight_within_bound!)}`],
    ['paid events lost', String(a.lost), String(b.lost), '0'],
    ['poison sent / in the DLQ / still queued', `${a.poisonSent} / ${a.dlqPoison} / ${a.poisonQueued}`, `${b.poisonSent} / ${b.dlqPoison} / ${b.poisonQueued}`, 'none lost'],
    ['paid events sent', String(a.eventsSent), String(b.eventsSent), ''],
    ['breaker openings (containers)', String(a.breakerOpened), String(b.breakerOpened), ''],
    ['invocations / records delivered', `${a.invocations} / ${a.recordsDelivered}`, `${b.invocations} / ${b.recordsDelivered}`, ''],
    ['ChangeMessageVisibility / mapping updates', `${a.visibilityChanges} / ${a.mappingUpdates}`, `${b.visibilityChanges} / ${b.mappingUpdates}`, ''],
    ['minutes the mapping was paused', String(a.minutesPaused), String(b.minutesPaused), ''],
    ['simulated minutes / real seconds', `${a.simulatedMinutes} / ${a.realSeconds}`, `${b.simulatedMinutes} / ${b.realSeconds}`, ''],
  ]);
  const timeline = table([
    ['minute', 'service', 'mapping', 'batches', 'queue', 'DLQ', 'calls', 'down calls', 'events applied', 'breakers opened/closed'],
    ...notableMinutes(b.timeline).map((m) => [
      String(m.minute),
      m.serviceUp ? 'up' : 'down',
      m.mappingState,
      String(m.batchesInParallel),
      String(m.queueDepth),
      String(m.dlq),
      String(m.attempts),
      String(m.downAttempts),
      String(m.eventsApplied),
      `${m.breakerOpened}/${m.breakerClosed}`,
    ]),
  ]);
  const capacity = table([['figure (1,000 containers, 1,000 events/s)', 'value', 'from'], ...capacityTable(a, b, options).map((r) => [r.figure, r.value, r.from])]);
  const dynamo = (r: typeof a) =>
    Object.entries(r.dynamoRequests)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
  const codes = (r: typeof a) =>
    Object.entries(r.failuresWhileUp)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
  return [
    `fleet: ${options.containers} containers, ${options.eventsPerSecond} events/s, ${options.outageMinutes}-minute contact-service outage; ${report.realSeconds} s real`,
    '',
    results,
    '',
    'shared design, minute by minute (minute 0: the contact-service stops):',
    timeline,
    '',
    capacity,
    '',
    `calls failed or refused while the service was up, per-container: ${codes(a) || 'none'}; shared: ${codes(b) || 'none'}`,
    `DynamoDB requests, per-container: ${dynamo(a) || 'none'}`,
    `DynamoDB requests, shared: ${dynamo(b) || 'none'}`,
  ].join('\n');
}
