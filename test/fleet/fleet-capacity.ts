/**
 * The capacity table: what the shared design needs and costs at a size the simulation cannot run
 * here (1,000 containers, 1,000 events/s), scaled from what the simulation measured. Every row
 * says which measured figure it scales and how, so a reader can redo the arithmetic.
 */
import type { DesignResult } from './design-result.js';
import type { FleetOptions } from './fleet-options.js';

export interface CapacityTarget {
  containers: number;
  eventsPerSecond: number;
  outageMinutes: number;
  /** The drain goal. */
  drainMinutes: number;
  batchSize: number;
  bulkhead: number;
  /** Containers' shared-breaker reads: one per container per this many seconds while invoked. */
  sharedReadSeconds: number;
}

export const CAPACITY_TARGET: CapacityTarget = {
  containers: 1_000,
  eventsPerSecond: 1_000,
  outageMinutes: 120,
  drainMinutes: 15,
  batchSize: 10,
  bulkhead: 16,
  sharedReadSeconds: 5,
};

export interface CapacityRow {
  figure: string;
  value: string;
  from: string;
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

/** The capacity rows for `target`, from the measured `perContainer` and `shared` runs. */
export function capacityTable(perContainer: DesignResult, shared: DesignResult, options: Pick<FleetOptions, 'containers' | 'eventsPerSecond'>, target = CAPACITY_TARGET): CapacityRow[] {
  const backlog = target.eventsPerSecond * target.outageMinutes * 60;
  const drainRate = backlog / (target.drainMinutes * 60) + target.eventsPerSecond;
  const batchSeconds = Math.max(shared.meanBatchMs, 1) / 1000;
  const concurrency = Math.ceil((drainRate * batchSeconds) / target.batchSize);
  const simulatedHours = shared.simulatedMinutes / 60;
  const ops = (filter: (table: string, op: string) => boolean) =>
    Object.entries(shared.dynamoRequests)
      .filter(([key]) => filter(key.split(' ')[0]!, key.split(' ')[1]!))
      .reduce((sum, [, count]) => sum + count, 0);
  const stateReads = ops((table, op) => table === 'mesh-state' && /Get|Query|Scan/.test(op));
  const stateWrites = ops((table, op) => table === 'mesh-state' && !/Get|Query|Scan/.test(op));
  const readsPerInvocation = shared.invocations === 0 ? 0 : stateReads / shared.invocations;
  const invocationsPerHour = (target.eventsPerSecond / target.batchSize) * 3600;
  const readsBound = target.containers * (3600 / target.sharedReadSeconds);
  const readsPerHour = Math.min(readsPerInvocation * invocationsPerHour, readsBound);
  const entitlementWrites = ops((table, op) => table === 'entitlements' && op === 'UpdateItem');
  const writesPerEvent = shared.eventsSent === 0 ? 0 : entitlementWrites / shared.eventsSent;
  const downPerContainer = perContainer.downCalls / options.containers;
  return [
    { figure: 'backlog after the outage', value: `${fmt(backlog)} messages`, from: `${target.eventsPerSecond} events/s × ${target.outageMinutes} min` },
    { figure: `throughput to drain in ${target.drainMinutes} min`, value: `${fmt(drainRate)} records/s`, from: 'backlog ÷ 15 min + arrivals' },
    {
      figure: 'MaximumConcurrency needed',
      value: fmt(concurrency),
      from: `throughput × ${Math.round(batchSeconds * 1000)} ms per batch (measured mean of a successful ${target.batchSize}-record batch) ÷ ${target.batchSize}`,
    },
    { figure: 'contact-service calls in flight at most', value: fmt(concurrency * target.bulkhead), from: `MaximumConcurrency × bulkhead ${target.bulkhead}` },
    {
      figure: 'calls reaching the down service, per-container design',
      value: fmt(downPerContainer * target.containers),
      from: `${downPerContainer.toFixed(1)} per container measured × ${fmt(target.containers)} containers`,
    },
    {
      figure: 'calls reaching the down service, shared design',
      value: fmt(shared.downCalls),
      from: 'measured; one elected prober and mesh-health, whatever the fleet size',
    },
    {
      figure: 'mesh-state reads per hour',
      value: fmt(readsPerHour),
      from: `${readsPerInvocation.toFixed(3)} per invocation measured × ${fmt(invocationsPerHour)} invocations/h, at most ${fmt(target.containers)} containers × one per ${target.sharedReadSeconds} s`,
    },
    {
      figure: 'mesh-state writes per outage',
      value: fmt(stateWrites),
      from: `measured over ${simulatedHours.toFixed(1)} simulated hours: transitions, elections and leases, not per call`,
    },
    {
      figure: 'entitlements writes per hour',
      value: fmt(writesPerEvent * target.eventsPerSecond * 3600),
      from: `${writesPerEvent.toFixed(2)} UpdateItem per event measured × ${fmt(target.eventsPerSecond * 3600)} events/h`,
    },
  ];
}
