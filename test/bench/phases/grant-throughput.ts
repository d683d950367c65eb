/**
 * Grant throughput: SQS records per second through the real grant-entitlements handler
 * (`functions/grant-entitlements/handler.ts`, bundled as deployed, middy and every middleware on)
 * against a bare loop making the same gRPC calls and the same DynamoDB writes with the bare
 * clients: the bare grpc-js client (`bare-client.ts`) and a plain `DynamoDBClient` (the SDK's
 * defaults, as a team without this project's store would make it).
 *
 * What each record is: a grant that names its purchaser, the purchaser of a family of 5
 * (`grant-families.ts`), each record of a batch a family of its own. Per record, both sides make
 * `GetUserInfo`, then `GetFamilyMembers`, then one conditional `UpdateItem` per member (5), the
 * same request (built by the store's own `prepareWrite`, so the store does the same work for
 * both). The events name no Stripe objects, so neither side writes Stripe links.
 *
 * How records and writes are in flight, the same on both sides:
 * - a batch is the event source mapping's size (`GRANT_BATCH_SIZE`, the CDK default), and all of
 *   its records run at once: the handler's Powertools `BatchProcessor` processes records in
 *   parallel (`Promise.all`), the bare loop `Promise.allSettled`s over them;
 * - within a record, the two lookups are sequential (the family needs the purchaser's answer) and
 *   the writes of the 5 members all start together: the handler's store runs them under its
 *   `p-limit` shared by the batch (50 by default), the bare loop `Promise.all`s them. A batch
 *   holds 10 × 5 = 50 writes, so the limit never queues one (checked at start, with the
 *   contact-service bulkhead, 16, against the 10 lookups a batch has in flight);
 * - batches follow one another, each awaited, as one poller of the mapping invokes a container.
 *
 * The contact-service is the `slow` one (+5 ms a call), like the store (5 ms a write): from a
 * Lambda both are network hops of a few milliseconds, so a record's time is two lookup round trips
 * and one write round trip plus each side's CPU; a contact-service answering at once would make
 * the lookups free where DynamoDB's writes are not, a world no deployment has. It is also the
 * fan-out figure's setting, so the two read together.
 *
 * Every write of both sides takes effect and is checked: each event is new (a fresh id, a later
 * `created`; each side grants its own entitlement, so neither overtakes the other), the handler
 * must report no failed record and the bare loop no failed write, and after each batch, outside
 * the timing, every event of the batch is applied again through an `EntitlementStore`, which must
 * answer `duplicate` for all 5 members (the item holds that very event).
 *
 * Rounds: a round runs a few batches of each side, interleaved batch by batch, the side that goes
 * first alternating; a side's records per second in a round are its records over the sum of its
 * batches' times (a slow batch costs throughput), and the figure is the median over rounds of
 * handler / bare. Warm-up batches, unmeasured, come first
 * (connections, the SVID, the JIT), as in a container that has handled a few.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { handler as grantHandler } from '../../../functions/grant-entitlements/handler.js';
import type { MemberEntitlementCommand } from '../../../functions/payment-webhook/entitlement-command.js';
import { loadMeshConfig } from '../../../shared/config/load-mesh-config.js';
import { ENTITLEMENT_STORE_DEFAULTS, EntitlementStore } from '../../../shared/entitlements/entitlement-store.js';
import { entitlementKey, prepareWrite } from '../../../shared/entitlements/entitlement-write.js';
import { entitlementsWriteConcurrencyFromEnv } from '../../../shared/entitlements/entitlements-table-env.js';
import { bareContactClient, bareCredentialsFrom } from '../bare-client.js';
import { ENTITLEMENTS_TABLE } from '../bench-server.js';
import { GRANT_BATCH_SIZE, GRANT_FAMILY_COUNT, GRANT_FAMILY_SIZE, grantFamilyIdOf, grantFamilyMemberIds, grantPurchaserOf } from '../grant-families.js';
import { grantCommand, invocationContext, sqsBatchOf } from '../lambda-events.js';
import { runPhase } from '../phase.js';
import { quietOutput } from '../quiet-output.js';
import { median } from '../stats.js';

export interface GrantThroughputResult {
  rounds: number;
  batchesPerRound: number;
  batchSize: number;
  familySize: number;
  /** Records per second over a round's batches, median over rounds, each side. */
  handlerRecordsPerSecond: number;
  bareRecordsPerSecond: number;
  /** Median over rounds of handler / bare records per second. */
  ratio: number;
  /** Milliseconds of one batch, median over every measured batch, each side. */
  handlerBatchMs: number;
  bareBatchMs: number;
  /** This process's CPU per record (gRPC, SDK and everything around them), median over rounds, each side. */
  handlerCpuMsPerRecord: number;
  bareCpuMsPerRecord: number;
  /** Writes checked to have taken effect, both sides, warm-up included. */
  writesChecked: number;
}

type Side = 'handler' | 'bare';

const handler = grantHandler as unknown as (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

await runPhase<GrantThroughputResult>(async ({ info, quick }) => {
  const rounds = quick ? 1 : 16;
  const batchesPerRound = quick ? 1 : 4;
  const warmups = quick ? 1 : 5;
  const writeConcurrency = entitlementsWriteConcurrencyFromEnv() ?? ENTITLEMENT_STORE_DEFAULTS.concurrency;
  const bulkhead = loadMeshConfig().services['contact-service']!.maxConcurrentCalls;
  if (GRANT_BATCH_SIZE * GRANT_FAMILY_SIZE > writeConcurrency || GRANT_BATCH_SIZE > bulkhead) {
    throw new Error(
      `a batch's ${GRANT_BATCH_SIZE * GRANT_FAMILY_SIZE} writes and ${GRANT_BATCH_SIZE} lookups must all be in flight at once in the handler ` +
        `(write concurrency ${writeConcurrency}, bulkhead ${bulkhead}), or the bare loop does not match it`,
    );
  }

  const output = quietOutput();
  // The contact-service the handler is deployed against (`functionEnvironment` sets both).
  const bare = bareContactClient(process.env.BARE_CONTACT_ADDRESS!, bareCredentialsFrom((name) => readFileSync(join(info.svidDir, name))));
  const dynamo = new DynamoDBClient({});
  const checker = new EntitlementStore({ tableName: ENTITLEMENTS_TABLE });
  // Entitlements of this run only: a store kept across runs may hold later events of another run.
  const run = Math.random().toString(36).slice(2, 8);
  let created = Math.floor(Date.now() / 1000);
  let nextFamily = 0;
  let writesChecked = 0;

  /** The bare loop over one batch: the handler's structure without the mesh layer, middy or Powertools. */
  const bareBatch = async (event: SQSEvent): Promise<SQSBatchResponse> => {
    const now = new Date().toISOString();
    const settled = await Promise.allSettled(
      event.Records.map(async (record) => {
        const command = JSON.parse(record.body) as MemberEntitlementCommand;
        const purchaser = await bare.getUserInfo(command.purchaserId);
        const members = purchaser.familyId ? await bare.getFamilyMembers(purchaser.familyId) : [purchaser];
        const { request } = prepareWrite(ENTITLEMENTS_TABLE, { ...command, familyId: purchaser.familyId }, now);
        // A conditional write that answers success took effect (a failed condition throws).
        await Promise.all(members.map((m) => dynamo.send(new UpdateItemCommand({ ...request, Key: entitlementKey(m.id, command.entitlement) }))));
      }),
    );
    return { batchItemFailures: event.Records.filter((_, i) => settled[i]!.status === 'rejected').map((r) => ({ itemIdentifier: r.messageId })) };
  };
  const invoke: Record<Side, (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>> = { handler, bare: bareBatch };

  /** One batch of `side`, timed; then, untimed, every write checked. */
  const batch = async (side: Side) => {
    const families = Array.from({ length: GRANT_BATCH_SIZE }, () => (nextFamily++ % GRANT_FAMILY_COUNT) + 1);
    const commands = families.map((n) => grantCommand(grantPurchaserOf(n), `throughput_${side}_${run}`, ++created));
    const event = sqsBatchOf(commands);
    const context = invocationContext(event.Records[0]!.messageId);
    const cpuBefore = process.cpuUsage();
    const startedAt = performance.now();
    const result = await invoke[side](event, context);
    const ms = performance.now() - startedAt;
    const cpu = process.cpuUsage(cpuBefore);
    if (result.batchItemFailures.length > 0) throw new Error(`${side}: ${result.batchItemFailures.length} of ${GRANT_BATCH_SIZE} records failed`);
    const checks = await Promise.all(
      commands.map((command, i) => checker.applyToMembers(grantFamilyMemberIds(families[i]!), { ...command, familyId: grantFamilyIdOf(families[i]!) })),
    );
    const took = checks.flatMap((outcomes) => [...outcomes.values()]).filter((outcome) => outcome === 'duplicate').length;
    if (took !== GRANT_BATCH_SIZE * GRANT_FAMILY_SIZE) throw new Error(`${side}: ${took} of ${GRANT_BATCH_SIZE * GRANT_FAMILY_SIZE} writes took effect`);
    writesChecked += took;
    return { ms, cpuMs: (cpu.user + cpu.system) / 1000 };
  };

  for (let i = 0; i < warmups; i++) for (const side of ['handler', 'bare'] as const) await batch(side);

  const perSecond = { handler: [] as number[], bare: [] as number[] };
  const cpuPerRecord = { handler: [] as number[], bare: [] as number[] };
  const batchMs = { handler: [] as number[], bare: [] as number[] };
  const ratios: number[] = [];
  const records = batchesPerRound * GRANT_BATCH_SIZE;
  for (let round = 0; round < rounds; round++) {
    const sums = { handler: { ms: 0, cpuMs: 0 }, bare: { ms: 0, cpuMs: 0 } };
    for (let i = 0; i < batchesPerRound; i++) {
      // Batch by batch, the side that goes first alternating, so that whatever else the machine
      // does in a round falls on both sides alike.
      const order: Side[] = (round + i) % 2 === 0 ? ['handler', 'bare'] : ['bare', 'handler'];
      for (const side of order) {
        const one = await batch(side);
        sums[side].ms += one.ms;
        sums[side].cpuMs += one.cpuMs;
        batchMs[side].push(one.ms);
      }
    }
    for (const side of ['handler', 'bare'] as const) {
      perSecond[side].push(records / (sums[side].ms / 1000));
      cpuPerRecord[side].push(sums[side].cpuMs / records);
    }
    ratios.push(perSecond.handler.at(-1)! / perSecond.bare.at(-1)!);
  }
  output.restore();
  bare.close();
  dynamo.destroy();
  return {
    rounds,
    batchesPerRound,
    batchSize: GRANT_BATCH_SIZE,
    familySize: GRANT_FAMILY_SIZE,
    handlerRecordsPerSecond: median(perSecond.handler),
    bareRecordsPerSecond: median(perSecond.bare),
    ratio: median(ratios),
    handlerBatchMs: median(batchMs.handler),
    bareBatchMs: median(batchMs.bare),
    handlerCpuMsPerRecord: median(cpuPerRecord.handler),
    bareCpuMsPerRecord: median(cpuPerRecord.bare),
    writesChecked,
  };
});
