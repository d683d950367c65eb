/**
 * The soak, short: 300 payment events through webhook → queue → grant-entitlements with 10 % of
 * contact-service calls failing and a restart halfway (see soak.ts; `npm run soak` runs 10,000).
 */
import { describe, expect, it } from 'vitest';
import { formatSoakCounts, runSoak } from './soak.js';

describe('soak', () => {
  it('300 events with 10 % failing calls and a restart: nothing lost, nothing applied twice, only poison in the DLQ, no secret logged', async () => {
    const { counts, problems } = await runSoak({
      events: 300,
      containers: 2,
      visibilityTimeoutMs: 2_500,
      breakerTimeoutSeconds: 0.5,
      restartOutageMs: 300,
      maxDrainMs: 45_000,
    });

    console.info(`soak (300 events):\n${formatSoakCounts(counts)}`);
    expect(problems).toEqual([]);
    expect(counts.events).toBe(300);
    expect(counts.webhookDeliveries).toBe(300 + counts.stripeDuplicateDeliveries);
    expect(counts.messagesQueued).toBe(counts.webhookDeliveries + counts.malformedMessagesInjected);
    expect(counts.dlq).toBe(counts.unknownPurchaserEvents + counts.malformedMessagesInjected);
    expect(counts.dlq).toBeGreaterThanOrEqual(4);
    expect(counts.redeliveries).toBeGreaterThan(0);
    expect(counts.unavailableAttempts).toBeGreaterThan(0);
    expect(counts.cancellations).toBeGreaterThan(0);
    expect(counts.stripeDuplicateDeliveries).toBeGreaterThan(0);
    expect(counts.duplicates).toBeGreaterThan(0);
    // Members × events, each exactly once (a payment overtaken by its cancellation is superseded instead).
    expect(counts.grantsApplied + counts.revokesApplied + counts.overtakenByCancellation).toBe(counts.memberEvents);
    expect(counts.itemsChecked).toBeGreaterThan(0);
    expect(counts.logLines).toBeGreaterThan(1_000); // every line was audited as it was written
    expect(counts.logLeaks).toBe(0);
  }, 90_000);
});
