/**
 * One design through one outage: the fleet's containers, the queue and its event source mapping,
 * mesh-health on its schedule, and paid events arriving at a steady rate, on the simulated clock.
 *
 * Each simulated second is one round: events due are sent; mesh-health runs when due; the mapping
 * polls and every batch it hands out is invoked on an idle container (the real grant-entitlements
 * handler, its own module graph per container); the round ends when every invocation has returned,
 * and only then does the clock skip the idle rest of the second. A round whose real work takes
 * longer than a second takes longer in simulated time too: this machine's contention slows the
 * simulated fleet down, never speeds it up. A container runs one batch per round (AWS would fit
 * several 100 ms batches into a second), so throughput here is a floor.
 */
import { ChangeMessageVisibilityBatchCommand, ChangeMessageVisibilityCommand, SQSClient } from '@aws-sdk/client-sqs';
import { GetEventSourceMappingCommand, LambdaClient, UpdateEventSourceMappingCommand } from '@aws-sdk/client-lambda';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { lambdaContextOf } from '../fixtures/lambda-context.js';
import { changeVisibilityIn, SimulatedSqs } from '../reliability/simulated-sqs.js';
import type { ContainerLoader, HealthHandler } from './container-modules.js';
import { ContainerPool } from './container-pool.js';
import type { DesignResult, TimelineMinute } from './design-result.js';
import { SimulatedEventSourceMapping } from './event-source-mapping.js';
import type { FleetDesign } from './fleet-designs.js';
import type { FleetEnvironment } from './fleet-environment.js';
import { FLEET_DEFAULTS, type FleetOptions } from './fleet-options.js';
import { FleetTally } from './fleet-tally.js';
import { PaidEvents } from './paid-events.js';
import type { SimulatedClock } from './simulated-clock.js';

const QUEUE_ARN = 'arn:aws:sqs:us-east-1:000000000000:entitlement-commands';
/** EventBridge's scheduled event (test/fixtures/events/mesh-health.scheduled.json), stamped per run. */
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

/**
 * Runs `design` through one outage and measures it. `process.env` must already hold the
 * environment's and the design's variables (the handlers read them at cold start and on first
 * use), and every line the functions write must reach `tallyRef.current` (see log-tap.ts).
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
  const realSeconds = () => Math.round((performance.now() - realStart) / 1000);
  const dynamoBefore = await environment.dynamo.requestCounts();
  const tally = new FleetTally();
  tallyRef.current = tally;
  const queue = new SimulatedSqs({
    maxReceiveCount: design.maxReceiveCount,
    // As the CDK app sets it: six times the function timeout plus the batching window.
    visibilityTimeoutMs: (6 * options.functionTimeoutSeconds + 1) * 1000,
    retentionMs: design.retentionDays * 24 * 3_600_000,
    queueArn: QUEUE_ARN,
    now: () => clock.now(),
  });
  const mapping = new SimulatedEventSourceMapping({
    functionConcurrency: options.containers,
    maximumConcurrency: design.maximumConcurrency,
    batchSize: options.batchSize,
    eventSourceArn: QUEUE_ARN,
  });
  // The handlers' own SDK clients, answered by the simulation (aws-sdk-client-mock patches the
  // client classes every container shares); anything else the code sends fails loudly.
  const sqs = mockClient(SQSClient);
  const visibility = changeVisibilityIn(queue);
  sqs.onAnyCommand().rejects(new Error('the fleet simulation simulates only ChangeMessageVisibility on SQS'));
  sqs.on(ChangeMessageVisibilityCommand).callsFake(visibility.single);
  sqs.on(ChangeMessageVisibilityBatchCommand).callsFake(visibility.batch);
  const lambda = mockClient(LambdaClient);
  lambda.onAnyCommand().rejects(new Error('the fleet simulation simulates only Get/UpdateEventSourceMapping on Lambda'));
  lambda.on(UpdateEventSourceMappingCommand).callsFake((input) => mapping.update(input, clock.now()));
  lambda.on(GetEventSourceMappingCommand).callsFake((input) => mapping.get(input.UUID, clock.now()));

  const pool = new ContainerPool(design.name, options, load, queue);
  let health: HealthHandler | undefined;
  async function invokeHealth(): Promise<void> {
    health ??= await load('health', `${design.name}-mesh-health`);
    const context = lambdaContextOf({ functionName: 'mesh-health', remainingMs: 30_000 }) as Context;
    await health({ ...SCHEDULED_EVENT, time: new Date(clock.now()).toISOString() }, context).catch(() => undefined);
  }

  const startAt = clock.now();
  const outageAt = startAt + options.warmupMinutes * 60_000;
  const recoveryAt = outageAt + options.outageMinutes * 60_000;
  const giveUpAt = recoveryAt + options.maxDrainMinutes * 60_000;
  const events = new PaidEvents(design.name, queue, options, startAt);
  let nextHealthAt = startAt;
  let nextMinuteAt = startAt + 60_000;
  let serviceUp = true;
  let recoveredAt: number | undefined;
  let drainedAt: number | undefined;
  /** Paid events sent during the outage and not yet deleted or dead-lettered. */
  let pendingFromOutage: string[] = [];
  const timeline: TimelineMinute[] = [];

  print(`${design.name}: ${options.containers} containers, ${options.eventsPerSecond} events/s, ${options.outageMinutes} min outage`);
  try {
    for (;;) {
      const now = clock.now();
      if (serviceUp && recoveredAt === undefined && now >= outageAt) {
        await environment.contact.stop();
        serviceUp = false;
        tally.serviceDown = true;
        print(`${design.name}: contact-service stopped at minute 0 (${realSeconds()} s real)`);
      } else if (!serviceUp && now >= recoveryAt) {
        await environment.contact.start();
        serviceUp = true;
        tally.serviceDown = false;
        recoveredAt = clock.now();
        environment.contact.resetMaxInFlight();
        pool.clean.counting = true;
        print(`${design.name}: contact-service back at minute ${Math.round((recoveredAt - outageAt) / 60_000)}, ${queue.depth} messages queued (${realSeconds()} s real)`);
      }
      const sent = events.sendDue(now);
      if (recoveredAt === undefined && now >= outageAt) pendingFromOutage.push(...sent);

      const work: Promise<void>[] = [pool.invokeAll(mapping.poll(queue, now))];
      if (now >= nextHealthAt) {
        nextHealthAt += design.healthScheduleMinutes * 60_000;
        work.push(invokeHealth());
      }
      await Promise.all(work);

      if (clock.now() >= nextMinuteAt) {
        nextMinuteAt += 60_000;
        const minute: TimelineMinute = {
          minute: Math.floor((clock.now() - outageAt) / 60_000),
          serviceUp,
          mappingState: mapping.state(clock.now()),
          queueDepth: queue.depth,
          dlq: queue.stats.movedToDlq,
          batchesInParallel: mapping.batchesInParallel,
          ...tally.takeMinute(),
        };
        timeline.push(minute);
        if (minute.minute % 15 === 0 || recoveredAt !== undefined) {
          print(`${design.name}: minute ${minute.minute}, queue ${minute.queueDepth}, DLQ ${minute.dlq}, mapping ${minute.mappingState}, ${minute.downAttempts} down calls, ${realSeconds()} s real`);
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

  const endAt = clock.now();
  const dynamoAfter = await environment.dynamo.requestCounts();
  const dlqPoison = queue.deadLetters.filter((m) => events.poisonIds.has(m.messageId)).length;
  const dlqPaidEvents = queue.stats.movedToDlq - dlqPoison;
  const poisonQueued = events.poisonQueued();
  return {
    design: design.name,
    eventsSent: events.paidSent,
    poisonSent: events.poisonSent,
    dlqPaidEvents,
    dlqPoison,
    poisonQueued,
    downCalls: tally.downAttempts,
    duplicates: tally.duplicates,
    lost: events.paidSent - tally.appliedEvents.size - dlqPaidEvents - (queue.depth - poisonQueued),
    drainMinutes: drainedAt === undefined || recoveredAt === undefined ? undefined : Math.round(((drainedAt - recoveredAt) / 60_000) * 10) / 10,
    maxInflightAfterRecovery: environment.contact.maxInFlight,
    maxInflightAllowed: mapping.concurrencyCap * options.bulkhead,
    breakerOpened: tally.breakerOpened,
    failuresWhileUp: Object.fromEntries(tally.failuresWhileUp),
    invocations: pool.invocations,
    containersStarted: pool.started,
    meanBatchMs: pool.clean.batches === 0 ? 0 : Math.round(pool.clean.ms / pool.clean.batches),
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
