/**
 * The fleet simulation, short (see fleet.ts; `npm run fleet` runs 50 containers through a 2-hour
 * outage): 8 containers, 5 events/s, a 12-minute outage, today's design beside the shared one.
 * Each container is its own module graph (vi.resetModules per cold start).
 */
import { describe, expect, it, vi } from 'vitest';
import { HANDLER_PATHS, type ContainerLoader, type HandlerModules } from './container-modules.js';
import { runFleet } from './fleet.js';
import { fleetSummary, formatFleetReport, type FleetReport } from './fleet-report.js';

const resetModulesLoader: ContainerLoader = async (kind) => {
  vi.resetModules();
  return ((await import(/* @vite-ignore */ HANDLER_PATHS[kind])) as { handler: HandlerModules[typeof kind] }).handler;
};

describe('fleet simulation (short)', () => {
  let report: FleetReport;

  it('runs both designs through the same outage', async () => {
    report = await runFleet({ containers: 8, eventsPerSecond: 5, outageMinutes: 12, warmupMinutes: 1, maxDrainMinutes: 30, poisonEvery: 700 }, resetModulesLoader);
    console.info(formatFleetReport(report));
    expect(report.perContainer.eventsSent).toBeGreaterThan(3_000);
    expect(report.shared.eventsSent).toBe(report.perContainer.eventsSent);
  }, 240_000);

  it('loses no paid event and applies none twice, in either design', () => {
    for (const design of [report.perContainer, report.shared]) {
      expect(design.lost, design.design).toBe(0);
      expect(design.duplicates, design.design).toBe(0);
    }
  });

  it('dead-letters no paid event in the shared design, and still dead-letters the poison', () => {
    expect(report.shared.dlqPaidEvents).toBe(0);
    expect(report.shared.poisonSent).toBeGreaterThan(0);
    expect(report.shared.dlqPoison).toBe(report.shared.poisonSent);
  });

  it('keeps the calls in flight on the returned service within MaximumConcurrency × the bulkhead', () => {
    expect(report.shared.maxInflightAfterRecovery).toBeGreaterThan(0);
    expect(report.shared.maxInflightAfterRecovery).toBeLessThanOrEqual(report.shared.maxInflightAllowed);
  });

  it('sends far fewer calls to the down service than containers with their own breakers', () => {
    expect(report.perContainer.downCalls).toBeGreaterThan(0);
    expect(report.shared.downCalls).toBeLessThan(report.perContainer.downCalls * 0.25);
  });

  it('drains the backlog after the return and reports it in the JSON summary', () => {
    const summary = fleetSummary(report);
    expect(summary.drain_minutes).not.toBeNull();
    for (const key of ['dlq_paid_events', 'dlq_paid_events_per_container', 'down_calls_shared', 'down_calls_per_container', 'duplicates', 'drain_minutes', 'max_inflight_after_recovery', 'max_inflight_allowed']) {
      expect(summary).toHaveProperty(key);
    }
  });
});
