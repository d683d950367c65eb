/**
 * One design through one outage: the fleet's containers, the queue and its event source mapping,
 * mesh-health on its schedule, and paid events arriving at a steady rate, on the simulated clock.
 *
 * Each simulated second is one round: events due are sent; mesh-health runs when due; the mapping
 * polls and every batch it hands out is invoked on a free container (the real grant-entitlements
 * handler, its own module copy per container); the round ends when every invocation has returned,
 * and only then does the clock skip the idle rest of the second. A round whose real work takes
 * longer than a second takes longer in simulated time too: this machine's contention slows the
 * simulated fleet down, never speeds it up. A container runs one batch per round (AWS would fit
 * several 100 ms batches into a second), so throughput here is a floor.
 */
import { ChangeMessageVisibilityBatchCommand, ChangeMessageVisibilityCommand, SQSClient } from '@aws-sdk/client-sqs';
import { GetEventSourceMappingCommand, LambdaClient, UpdateEventSourceMappingCommand } from '@aws-sdk/client-lambda';
import type { Context, SQSBatchResponse, SQSRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import type { EntitlementCommand } from '../../functions/payment-webhook/entitlement-command.js';
import { lambdaContextOf } from '../fixtures/lambda-context.js';
import { seededRandom } from '../local/seeded-random.js';
import { changeVisibilityIn, SimulatedSqs } from '../reliability/simulated-sqs.js';
import type { ContainerLoader, GrantHandler, HealthHandler } from './container-modules.js';
import { SimulatedEventSourceMapping } from './event-source-mapping.js';
import type { FleetDesign } from './fleet-designs.js';
import type { FleetEnvironment } from './fleet-environment.js';
import { FleetTally, type MinuteCounts } from './fleet-tally.js';
import type { SimulatedClock } from './simulated-clock.js';

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
  maxReceiveCount: number;
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
  maxReceiveCount: 5,
  poisonEvery: 5_000,
  bulkhead: 16,
  seed: 20_261_202,
};

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

const QUEUE_ARN = 'arn:aws:sqs:us-east-1:000000000000:entitlement-commands';
const SCHEDULED_EVENT = {
  version: '0',
  id: '53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa',
  'detail-type': 'Scheduled Event',
  source: 'aws.events',
  account: '000000000000',
  region: 'us-east-1',
  resources: ['arn:aws:events:us-east-1:000000000000:rule/mesh-health-schedule'],
  detail: {},
};

/** A paid event as the webhook queues it; one in ten is a family of three, the rest buy alone. */
function paidEvent(design: string, n: number, createdMs: number): EntitlementCommand {
  return {
    action: 'grant',
    eventId: `evt_fleet_${design.replace('-', '_')}_${n}`,
    eventType: 'checkout.session.completed',
    eventCreated: Math.floor(createdMs / 1000),
    purchaserId: n % 10 === 0 ? 'user-1' : 'user-solo',
    entitlement: `fleet-${n}`,
  };
}

/**
 * Runs `design` through one outage and measures it. `process.env` must already hold the
 * environment's and the design's variables (the handlers read them at cold start and on first use);
 * `onLine` must already receive every line the functions write (see log-tap.ts) and pass it to the
 * returned tally through `tallyRef`.
 */
export async function runDesign(
  design: FleetDesign,
  environment: FleetEnvironment,
  clock: SimulatedClock,
  load: ContainerLoader,
  tallyRef: { current: FleetTally | undefined },
  opts: Partial<FleetOptions> = {},
): Promise<DesignResult> {
  const options: FleetOptions = { ...FLEET_DEFAULTS, ...opts };
  const print = options.progress ?? (() => {});
  const realStart = performance.now();
  const dynamoBefore = await environment.dynamo.requestCounts();
  const tally = new FleetTally(() => clock.now());
  tallyRef.current = tally;
  const queue = new SimulatedSqs({
    maxReceiveCount: options.maxReceiveCount,
    visibilityTimeoutMs: (6 * options.functionTimeoutSeconds + 1) * 1000,
    retentionMs: 14 * 24 * 3_600_000,
    queueArn: QUEUE_ARN,
    now: () => clock.now(),
  });
  const mapping = new SimulatedEventSourceMapping({
    functionConcurrency: options.containers,
    maximumConcurrency: design.maximumConcurrency,
    batchSize: options.batchSize,
    eventSourceArn: QUEUE_ARN,
  });
  const sqs = mockClient(SQSClient);
  const visibility = changeVisibilityIn(queue);
  sqs.onAnyCommand().rejects(new Error('the fleet simulation simulates only ChangeMessageVisibility on SQS'));
  sqs.on(ChangeMessageVisibilityCommand).callsFake(visibility.single);
  sqs.on(ChangeMessageVisibilityBatchCommand).callsFake(visibility.batch);
  const lambda = mockClient(LambdaClient);
  lambda.onAnyCommand().rejects(new Error('the fleet simulation simulates only Get/UpdateEventSourceMapping on Lambda'));
  lambda.on(UpdateEventSourceMappingCommand).callsFake((input) => mapping.update(input, clock.now()));
  lambda.on(GetEventSourceMappingCommand).callsFake((input) => mapping.get(input.UUID, clock.now()));

  const grants: (GrantHandler | undefined)[] = Array.from({ length: options.containers }, () => undefined);
  let health: HealthHandler | undefined;
  let invocations = 0;
  let cleanBatches = 0;
  let cleanBatchMs = 0;
  const startAt = clock.now();
  const outageAt = startAt + options.warmupMinutes * 60_000;
  const recoveryAt = outageAt + options.outageMinutes * 60_000;
  const giveUpAt = recoveryAt + options.maxDrainMinutes * 60_000;
  const healthEveryMs = design.healthScheduleMinutes * 60_000;
  let nextHealthAt = startAt;
  let nextMinuteAt = startAt + 60_000;
  let serviceUp = true;
  let recoveredAt: number | undefined;
  let drainedAt: number | undefined;
  let eventsSent = 0;
  let poisonSent = 0;
  let due = 0;
  let lastSendAt = startAt;
  const poisonIds = new Set<string>();
  /** Messages sent before the service's return and not yet deleted or dead-lettered. */
  let pendingFromOutage: string[] = [];
  const timeline: TimelineMinute[] = [];
  const random = seededRandom(options.seed);

  async function invokeGrant(container: number, records: SQSRecord[]): Promise<void> {
    grants[container] ??= await load('grant', `${design.name}-${container}`);
    invocations++;
    const context = lambdaContextOf({ functionName: 'grant-entitlements', remainingMs: options.functionTimeoutSeconds * 1000 }) as Context;
    let response: SQSBatchResponse;
    const startedAt = performance.now();
    try {
      response = await grants[container]!({ Records: records }, context);
    } catch {
      response = { batchItemFailures: records.map((r) => ({ itemIdentifier: r.messageId })) };
    }
    if (recoveredAt !== undefined && response.batchItemFailures.length === 0) {
      cleanBatches++;
      cleanBatchMs += performance.now() - startedAt;
    }
    queue.settle(records, response.batchItemFailures);
  }

  async function invokeHealth(): Promise<void> {
    health ??= await load('health', `${design.name}-mesh-health`);
    const context = lambdaContextOf({ functionName: 'mesh-health', remainingMs: 30_000 }) as Context;
    await health({ ...SCHEDULED_EVENT, time: new Date(clock.now()).toISOString() }, context).catch(() => undefined);
  }

  print(`${design.name}: ${options.containers} containers, ${options.eventsPerSecond} events/s, ${options.outageMinutes} min outage`);
  try {
    for (;;) {
      const now = clock.now();
      if (serviceUp && recoveredAt === undefined && now >= outageAt) {
        await environment.contact.stop();
        serviceUp = false;
        tally.serviceDown = true;
        print(`${design.name}: contact-service stopped at minute 0 (${Math.round((performance.now() - realStart) / 1000)} s real)`);
      } else if (!serviceUp && now >= recoveryAt) {
        await environment.contact.start();
        serviceUp = true;
        tally.serviceDown = false;
        recoveredAt = clock.now();
        environment.contact.resetMaxInFlight();
        print(`${design.name}: contact-service back at minute ${Math.round((recoveredAt - outageAt) / 60_000)}, ${queue.depth} messages queued (${Math.round((performance.now() - realStart) / 1000)} s real)`);
      }

      due += ((now - lastSendAt) / 1000) * options.eventsPerSecond;
      lastSendAt = now;
      for (; due >= 1; due--) {
        const n = eventsSent + poisonSent;
        let id: string;
        if (n > 0 && n % options.poisonEvery === 0) {
          id = queue.send('{"action": "grant", not json');
          poisonIds.add(id);
          poisonSent++;
        } else {
          id = queue.send(JSON.stringify(paidEvent(design.name, n, now)));
          eventsSent++;
        }
        if (recoveredAt === undefined && now >= outageAt && !poisonIds.has(id)) pendingFromOutage.push(id);
      }

      const work: Promise<void>[] = [];
      if (now >= nextHealthAt) {
        nextHealthAt += healthEveryMs;
        work.push(invokeHealth());
      }
      // The fleet is N warm containers, and Lambda does not say which idle one serves an
      // invocation: a random one, so every container of the fleet meets the outage.
      const idle = Array.from({ length: options.containers }, (_, i) => i);
      for (const records of mapping.poll(queue, now)) {
        const [container] = idle.splice(Math.floor(random() * idle.length), 1);
        work.push(invokeGrant(container!, records));
      }
      await Promise.all(work);

      if (clock.now() >= nextMinuteAt) {
        nextMinuteAt += 60_000;
        timeline.push({
          minute: Math.floor((clock.now() - outageAt) / 60_000),
          serviceUp,
          mappingState: mapping.state(clock.now()),
          queueDepth: queue.depth,
          dlq: queue.stats.movedToDlq,
          batchesInParallel: mapping.batchesInParallel,
          ...tally.takeMinute(),
        });
        const last = timeline.at(-1)!;
        if (last.minute % 15 === 0 || recoveredAt !== undefined) {
          print(`${design.name}: minute ${last.minute}, queue ${last.queueDepth}, DLQ ${last.dlq}, mapping ${last.mappingState}, ${last.downAttempts} down calls, ${Math.round((performance.now() - realStart) / 1000)} s real`);
        }
      }
      if (recoveredAt !== undefined) {
        pendingFromOutage = pendingFromOutage.filter((id) => queue.holds(id));
        if (pendingFromOutage.length === 0) {
          drainedAt = clock.now();
          break;
        }
        if (clock.now() >= giveUpAt) break;
      }
      clock.skipTo(now + 1000);
    }
  } finally {
    sqs.restore();
    lambda.restore();
    tallyRef.current = undefined;
  }

  const dlqPoison = queue.deadLetters.filter((m) => poisonIds.has(m.messageId)).length;
  const dlqPaidEvents = queue.stats.movedToDlq - dlqPoison;
  const applied = tally.appliedEvents.size;
  const poisonQueued = [...poisonIds].filter((id) => queue.holds(id)).length;
  const lost = eventsSent - applied - dlqPaidEvents - (queue.depth - poisonQueued);
  const endAt = clock.now();
  const dynamoAfter = await environment.dynamo.requestCounts();
  return {
    design: design.name,
    eventsSent,
    poisonSent,
    dlqPaidEvents,
    dlqPoison,
    poisonQueued,
    downCalls: tally.downAttempts,
    duplicates: tally.duplicates,
    lost,
    drainMinutes: drainedAt === undefined || recoveredAt === undefined ? undefined : Math.round(((drainedAt - recoveredAt) / 60_000) * 10) / 10,
    maxInflightAfterRecovery: environment.contact.maxInFlight,
    maxInflightAllowed: mapping.concurrencyCap * options.bulkhead,
    breakerOpened: tally.breakerOpened,
    invocations,
    containersStarted: grants.filter((g) => g !== undefined).length,
    meanBatchMs: cleanBatches === 0 ? 0 : Math.round(cleanBatchMs / cleanBatches),
    recordsDelivered: queue.stats.received,
    visibilityChanges: queue.stats.visibilityChanged,
    mappingUpdates: mapping.calls.update,
    minutesPaused: Math.round(mapping.disabledMs(endAt) / 6_000) / 10,
    dynamoRequests: Object.fromEntries(
      Object.entries(dynamoAfter)
        .map(([key, count]) => [key, count - (dynamoBefore[key] ?? 0)] as const)
        .filter(([, count]) => count > 0),
    ),
    simulatedMinutes: Math.round((endAt - startAt) / 6_000) / 10,
    realSeconds: Math.round((performance.now() - realStart) / 100) / 10,
    timeline,
  };
}
