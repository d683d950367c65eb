/**
 * The soak: thousands of Stripe payment events through the whole pipeline, with faults, and
 * afterwards proof that nothing was lost or applied twice.
 *
 *   Stripe ─▶ payment-webhook handler ─SendMessage─▶ SQS model ─batches─▶ grant-entitlements ×N ─mTLS─▶ contact-service
 *             (SDK mocked into the model)  (receive counts,            (one module copy per          └──▶ dynalite
 *                                           redrive to DLQ at 5)        container)
 *
 * Faults: 10 % of contact-service calls answer UNAVAILABLE (seeded), the contact-service is
 * stopped and started again halfway, Stripe delivers some events twice, some cancellations follow
 * their payments, a few events name a purchaser the contact-service does not know, and a few
 * messages on the queue are not commands at all. The checks (soak-checks.ts): every member of
 * every event's family ends with the event's entitlement (or its cancellation's revocation), each
 * (event, member) applied exactly once, the DLQ holds exactly the poisoned messages, and no log
 * line leaks a secret.
 *
 * `npm run soak` runs 10,000 events (`-- --events N --seed S --failure-rate R` to change);
 * soak.test.ts runs a short one inside `npm test`. One process, loopback only.
 */
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { status } from '@grpc/grpc-js';
import type { APIGatewayProxyResult, Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { EntitlementStore } from '../../shared/entitlements/entitlement-store.js';
import { ENTITLEMENTS_TABLE, startFunctionEnvironment } from '../fixtures/function-environment.js';
import { lambdaContext } from '../fixtures/mesh-environment.js';
import { signedWebhookEvent, stripeEventBody, TEST_SIGNING_SECRET } from '../fixtures/stripe.js';
import { tapOutput } from './log-tap.js';
import { checkEndState, checkExactlyOnce, checkQueue, OutcomeTally } from './soak-checks.js';
import { seededRandom } from '../local/seeded-random.js';
import { planDeliveries, planEvents } from './soak-plan.js';
import { sendMessageInto, SimulatedSqs } from './simulated-sqs.js';

export interface SoakOptions {
  /** Stripe events to send (payments, cancellations and unknown purchasers together). */
  events: number;
  /** Seeds the event mix and the contact-service's failures: a run can be replayed. */
  seed: number;
  /** Share of contact-service calls answered UNAVAILABLE. */
  failureRate: number;
  /** How long the contact-service is down during its restart halfway through. */
  restartOutageMs: number;
  /**
   * SQS visibility timeout: how soon a failed record comes back. Well above the breaker's open
   * time and a batch's latency, as in AWS (there six times the function timeout, against a 60 s
   * breaker), so records failed in an outage come back to a recovered service.
   */
  visibilityTimeoutMs: number;
  /** `CIRCUIT_BREAKER_TIMEOUT_SECONDS`: how long an open breaker waits before probing. */
  breakerTimeoutSeconds: number;
  /** Records per grant-entitlements invocation at most (the event source mapping's BatchSize). */
  batchSize: number;
  /**
   * grant-entitlements containers polling at once, each its own copy of the handler module
   * (runtime, breaker, channel, batch processor), as Lambda scales out.
   */
  containers: number;
  /**
   * Stripe's pace in deliveries per second, whatever the consumers are doing (an outage does not
   * slow Stripe down); below the consumers' capacity, so the queue stays short while all is well.
   */
  deliveriesPerSecond: number;
  /** Gives up waiting for the queue to empty this long after the last delivery. */
  maxDrainMs: number;
  /** Progress lines (the CLI prints them; tests leave them out). */
  progress?: (line: string) => void;
}

export const SOAK_DEFAULTS: SoakOptions = {
  events: 10_000,
  seed: 20_260_101,
  failureRate: 0.1,
  restartOutageMs: 500,
  visibilityTimeoutMs: 3_000,
  breakerTimeoutSeconds: 1,
  batchSize: 10,
  containers: 4,
  deliveriesPerSecond: 100,
  maxDrainMs: 120_000,
};

export interface SoakCounts {
  events: number;
  paymentEvents: number;
  cancellations: number;
  unknownPurchaserEvents: number;
  webhookDeliveries: number;
  stripeDuplicateDeliveries: number;
  malformedMessagesInjected: number;
  messagesQueued: number;
  /** Every record handed to grant-entitlements. */
  recordsDelivered: number;
  /** Deliveries of a record that had been delivered before. */
  redeliveries: number;
  invocations: number;
  /** Records reported in `batchItemFailures`. */
  recordsFailed: number;
  dlq: number;
  /** Σ members over every event of a known purchaser: the (event, member) pairs. */
  memberEvents: number;
  /** `applied` outcomes of payments. */
  grantsApplied: number;
  /** `applied` outcomes of cancellations. */
  revokesApplied: number;
  /** Pairs of a payment whose cancellation took effect first: superseded, rightly never applied. */
  overtakenByCancellation: number;
  /** `duplicate` outcomes: a redelivery or a second Stripe delivery finding its effect already there. */
  duplicates: number;
  /** Every `superseded` outcome, first deliveries and redeliveries alike. */
  superseded: number;
  /** Attempts the client saw fail UNAVAILABLE: the injected 10 % and the restart. */
  unavailableAttempts: number;
  breakerOpened: number;
  /** Items read back from DynamoDB and compared with the plan. */
  itemsChecked: number;
  logLines: number;
  /** Log lines that leak a PEM block, key, webhook secret or signature (`auditLogLines`). */
  logLeaks: number;
  /** From the first delivery until the queue was empty. */
  deliverySeconds: number;
  elapsedMs: number;
}

export interface SoakReport {
  counts: SoakCounts;
  /** Every broken promise, described; empty when the run kept them all. */
  problems: string[];
}

type GrantHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;
type WebhookHandler = (event: unknown, context: Context) => Promise<APIGatewayProxyResult>;

const QUEUE_URL = 'https://sqs.us-east-1.amazonaws.com/000000000000/entitlement-commands';
/** Bodies no webhook would send: another producer's bug. */
const MALFORMED_BODIES = ['{"action": "grant", not json', JSON.stringify({ action: 'grant', eventId: 'evt_soakbroken', purchaserId: '' })];

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Runs the soak and checks its promises; a broken promise is reported in `problems`, never thrown. */
export async function runSoak(opts: Partial<SoakOptions> = {}): Promise<SoakReport> {
  const options: SoakOptions = { ...SOAK_DEFAULTS, ...opts };
  const print = options.progress ?? (() => {});
  const startedAt = performance.now();
  const seconds = () => Math.round((performance.now() - startedAt) / 1000);
  const problems: string[] = [];
  const problem = (text: string) => {
    if (problems.length < 50) problems.push(text);
  };
  const counts: SoakCounts = {
    events: 0, paymentEvents: 0, cancellations: 0, unknownPurchaserEvents: 0, webhookDeliveries: 0,
    stripeDuplicateDeliveries: 0, malformedMessagesInjected: 0, messagesQueued: 0, recordsDelivered: 0,
    redeliveries: 0, invocations: 0, recordsFailed: 0, dlq: 0, memberEvents: 0, grantsApplied: 0,
    revokesApplied: 0, overtakenByCancellation: 0, duplicates: 0, superseded: 0, unavailableAttempts: 0,
    breakerOpened: 0, itemsChecked: 0, logLines: 0, logLeaks: 0, deliverySeconds: 0, elapsedMs: 0,
  };

  const env = await startFunctionEnvironment({
    QUEUE_URL,
    WEBHOOK_SIGNING_SECRET: TEST_SIGNING_SECRET,
    CIRCUIT_BREAKER_TIMEOUT_SECONDS: String(options.breakerTimeoutSeconds),
  });
  const queue = new SimulatedSqs({ visibilityTimeoutMs: options.visibilityTimeoutMs, maxReceiveCount: 5 });
  const sqs = mockClient(SQSClient);
  let lastQueued: string | undefined;
  sqs.on(SendMessageCommand).callsFake(sendMessageInto(queue, (id) => (lastQueued = id)));
  // Every line the functions write is tallied and audited as it goes; none is kept.
  const tally = new OutcomeTally();
  const tap = tapOutput({ keep: false, onLine: (line) => tally.read(line) });

  try {
    const { handler: webhook } = (await import('../../functions/payment-webhook/handler.js')) as unknown as { handler: WebhookHandler };
    // A query string makes a separate module instance: one per container.
    const containers: GrantHandler[] = [];
    for (let n = 0; n < options.containers; n++) {
      const specifier = `../../functions/grant-entitlements/handler.js?container=${n}`;
      containers.push(((await import(/* @vite-ignore */ specifier)) as { handler: GrantHandler }).handler);
    }

    const next = seededRandom(options.seed);
    const plan = planEvents(options.events, next);
    const deliveries = planDeliveries(plan, next);
    counts.events = plan.length;
    counts.paymentEvents = plan.filter((e) => e.type !== 'customer.subscription.deleted' && e.members.length > 0).length;
    counts.cancellations = plan.filter((e) => e.type === 'customer.subscription.deleted').length;
    counts.unknownPurchaserEvents = plan.filter((e) => e.members.length === 0).length;
    counts.stripeDuplicateDeliveries = deliveries.length - plan.length;
    const malformedCount = Math.max(2, Math.round(options.events / 2_500));
    const malformedAt = new Set(Array.from({ length: malformedCount }, (_, k) => Math.floor(((k + 0.5) * deliveries.length * 0.3) / malformedCount)));
    const poisoned = new Set<string>();

    print(`soak: ${plan.length} events, ${deliveries.length} deliveries, ${options.containers} containers, seed ${options.seed}`);
    env.mesh.contact.setFault({ kind: 'intermittent', code: status.UNAVAILABLE, probability: options.failureRate, seed: options.seed });

    // The event source mapping: every container polls while Stripe delivers, then until the
    // queue is empty (or `maxDrainMs` after the last delivery).
    let delivering = true;
    let drainDeadline = Number.POSITIVE_INFINITY;
    const consumers = Promise.all(
      containers.map(async (grant, container) => {
        while ((delivering || queue.depth > 0) && performance.now() < drainDeadline) {
          const records = queue.receive(options.batchSize);
          if (records.length === 0) {
            await sleep(delivering ? 5 : Math.min(Math.max(queue.msUntilNextVisible() ?? 5, 5), 250));
            continue;
          }
          counts.invocations++;
          const response = await grant({ Records: records }, lambdaContext(30_000, `grant-${container}-${counts.invocations}`) as unknown as Context);
          counts.recordsFailed += response.batchItemFailures.length;
          queue.settle(records, response.batchItemFailures);
        }
      }),
    );

    let restart: Promise<void> | undefined;
    const restartAt = Math.floor(deliveries.length / 2);
    const deliveringSince = performance.now();
    try {
      for (const [i, event] of deliveries.entries()) {
        const dueIn = deliveringSince + (i * 1000) / options.deliveriesPerSecond - performance.now();
        if (dueIn > 0) await sleep(dueIn);
        const body = stripeEventBody({ id: event.id, type: event.type, created: event.created, userId: event.purchaserId, entitlement: event.entitlement });
        lastQueued = undefined;
        const response = await webhook(signedWebhookEvent('v2', body), lambdaContext(3_000, `webhook-${i}`) as unknown as Context);
        counts.webhookDeliveries++;
        if (response.statusCode !== 200 || lastQueued === undefined) problem(`delivery ${i} of ${event.id} answered ${response.statusCode} ${response.body} and queued ${lastQueued ?? 'nothing'}`);
        if (event.members.length === 0 && lastQueued !== undefined) poisoned.add(lastQueued);
        if (malformedAt.has(i)) {
          poisoned.add(queue.send(MALFORMED_BODIES[counts.malformedMessagesInjected % MALFORMED_BODIES.length]!));
          counts.malformedMessagesInjected++;
        }
        if (i === restartAt) {
          print(`soak: restarting the contact-service (${options.restartOutageMs} ms down) after ${i} deliveries`);
          restart = (async () => {
            await env.mesh.contact.stop();
            await sleep(options.restartOutageMs);
            await env.mesh.contact.start();
          })();
        }
        if ((i + 1) % 1_000 === 0) print(`soak: ${i + 1}/${deliveries.length} delivered, queue depth ${queue.depth}, ${seconds()} s`);
      }
      await restart;
      print(`soak: all delivered; draining ${queue.depth} messages`);
    } finally {
      delivering = false;
      drainDeadline = performance.now() + options.maxDrainMs;
      await consumers;
    }
    counts.deliverySeconds = Math.round((performance.now() - deliveringSince) / 1000);

    checkQueue(queue, poisoned, problem);
    Object.assign(counts, checkExactlyOnce(plan, tally, problem));
    counts.itemsChecked = await checkEndState(plan, new EntitlementStore({ tableName: ENTITLEMENTS_TABLE }), problem);
    counts.messagesQueued = queue.stats.sent;
    counts.recordsDelivered = queue.stats.received;
    counts.redeliveries = queue.stats.redelivered;
    counts.dlq = queue.stats.movedToDlq;
    if (counts.redeliveries === 0) problem('no record was redelivered: the faults did not bite');
    if (tally.unavailableAttempts === 0) problem('no injected UNAVAILABLE was seen by the client');
  } finally {
    tap.restore();
    sqs.restore();
    await env.close();
  }

  counts.duplicates = tally.duplicates;
  counts.superseded = tally.superseded;
  counts.unavailableAttempts = tally.unavailableAttempts;
  counts.breakerOpened = tally.breakerOpened;
  counts.logLines = tap.count;
  counts.logLeaks = tap.leaks.length;
  counts.elapsedMs = Math.round(performance.now() - startedAt);
  for (const leak of tap.leaks) problem(`log line leaks ${leak.findings.join(', ')}: ${leak.line.slice(0, 200)}`);
  return { counts, problems };
}

/** The counts as a two-column table. */
export function formatSoakCounts(counts: SoakCounts): string {
  const width = Math.max(...Object.keys(counts).map((k) => k.length));
  return Object.entries(counts)
    .map(([key, value]) => `  ${key.padEnd(width)}  ${value}`)
    .join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { events: { type: 'string' }, seed: { type: 'string' }, 'failure-rate': { type: 'string' } } });
  // Bound now: while the soak runs, process.stdout.write is the log tap's.
  const write = process.stdout.write.bind(process.stdout);
  const options: Partial<SoakOptions> = { progress: (line) => write(`${line}\n`) };
  if (values.events !== undefined) options.events = Number(values.events);
  if (values.seed !== undefined) options.seed = Number(values.seed);
  if (values['failure-rate'] !== undefined) options.failureRate = Number(values['failure-rate']);
  const { counts, problems } = await runSoak(options);
  write(`soak finished in ${(counts.elapsedMs / 1000).toFixed(1)} s\n${formatSoakCounts(counts)}\n`);
  if (problems.length > 0) {
    write(`\n${problems.length} problem(s):\n${problems.map((p) => `  - ${p}`).join('\n')}\n`);
    process.exitCode = 1;
  } else {
    write('\nnothing lost, nothing applied twice, the DLQ holds only the poisoned messages, no secret in the logs\n');
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  // Exits explicitly: the handlers' gRPC channels live in module scope, as in a Lambda container.
  main().then(
    () => process.exit(),
    (error: unknown) => {
      process.stderr.write(`soak failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exit(1);
    },
  );
}
