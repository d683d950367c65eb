/**
 * The fleet simulation, short (see fleet.ts; `npm run fleet` runs 50 containers through a 2-hour
 * outage): 12 containers, 4 events/s, an 8-minute outage, today's design beside the shared one,
 * with a 10 s function timeout (so a 61 s visibility timeout: today's design dead-letters within
 * minutes). Each container is its own module graph (vi.resetModules per cold start).
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
    report = await runFleet(
      { containers: 12, eventsPerSecond: 4, outageMinutes: 8, warmupMinutes: 1, maxDrainMinutes: 20, functionTimeoutSeconds: 10, poisonEvery: 400 },
      resetModulesLoader,
    );
    console.info(formatFleetReport(report));
    expect(report.perContainer.eventsSent).toBeGreaterThan(2_000);
    expect(report.shared.eventsSent).toBeGreaterThan(2_000);
  }, 240_000);

  it('loses no paid event and applies none twice, in either design', () => {
    for (const design of [report.perContainer, report.shared]) {
      expect(design.lost, design.design).toBe(0);
      expect(design.duplicates, design.design).toBe(0);
    }
  });

  it('dead-letters paid events in today\'s design but none in the shared one, which still dead-letters the poison', () => {
    expect(report.perContainer.dlqPaidEvents).toBeGreaterThan(0);
    expect(report.shared.dlqPaidEvents).toBe(0);
    expect(report.shared.dlqPoison).toBeGreaterThan(0);
    for (const design of [report.perContainer, report.shared]) {
      expect(design.dlqPoison + design.poisonQueued, design.design).toBe(design.poisonSent);
    }
  });

  it('keeps the calls in flight on the returned service within MaximumConcurrency × the bulkhead', () => {
    expect(report.shared.maxInflightAfterRecovery).toBeGreaterThan(0);
    expect(report.shared.maxInflightAfterRecovery).toBeLessThanOrEqual(report.shared.maxInflightAllowed);
  });

  it('sends far fewer calls to the down service than containers with their own breakers', () => {
    expect(report.perContainer.downCalls).toBeGreaterThan(0);
    expect(report.shared.downCalls).toBeLessThan(report.perContainer.downCalls * 0.4);
  });

  it('pauses the mapping through the outage in the shared design, and drains the backlog after the return', () => {
    expect(report.shared.minutesPaused).toBeGreaterThan(report.options.outageMinutes / 2);
    expect(report.perContainer.minutesPaused).toBe(0);
    const summary = fleetSummary(report);
    expect(summary.drain_minutes).not.toBeNull();
    for (const key of ['dlq_paid_events', 'dlq_paid_events_per_container', 'down_calls_shared', 'down_calls_per_container', 'duplicates', 'drain_minutes', 'max_inflight_after_recovery', 'max_inflight_allowed']) {
      expect(summary).toHaveProperty(key);
    }
  });
});
