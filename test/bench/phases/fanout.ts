/**
 * grant-entitlements for a 50-member family (`user-50`) with the contact-service adding 5 ms per
 * call: the real handler (`functions/grant-entitlements/handler.ts`, one SQS record) against a
 * naive sequential baseline that looks the family up and then awaits each member's write one by
 * one. Both write through the same `EntitlementStore` class to the same table; the baseline's two
 * lookups go through the bare client (faster than the mesh, so the comparison favours the
 * baseline). Each run writes a new event, so every write takes effect; each of ours is then
 * checked outside the timing by applying its event again, which must answer `duplicate` for
 * every member (the store read the event back from every item). Five events each way go
 * unmeasured first (connections, the SVID, the JIT), as in a container that has handled a few.
 *
 * The store is (`BENCH_STORE=latency`) the latency-bound stand-in (`latency-store.ts`: DynamoDB
 * answering each write after 5 ms), which is the figure: the goal's premise is a latency-bound
 * mesh, as DynamoDB is latency-bound from a Lambda. Or it is dynalite, the real implementation's
 * check: dynalite spends milliseconds of its own CPU on every conditional write on one thread, so
 * on a small machine concurrent writes queue behind it. The server process's CPU time while ours
 * runs says which bound it was; this process's CPU per member says what the client spends.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { ENTITLEMENT_STORE_DEFAULTS, EntitlementStore } from '../../../shared/entitlements/entitlement-store.js';
import { entitlementsWriteConcurrencyFromEnv } from '../../../shared/entitlements/entitlements-table-env.js';
import { handler as grantHandler } from '../../../functions/grant-entitlements/handler.js';
import { bareContactClient, bareCredentialsFrom } from '../bare-client.js';
import { ENTITLEMENTS_TABLE } from '../bench-server.js';
import { grantCommand, invocationContext, sqsEventOf } from '../lambda-events.js';
import { runPhase } from '../phase.js';
import { processCpuMs } from '../process-cpu.js';
import { quietOutput } from '../quiet-output.js';
import { median } from '../stats.js';

export interface FanoutResult {
  store: 'dynalite' | 'latency';
  rounds: number;
  members: number;
  /** The store's write concurrency the handler ran with (`ENTITLEMENTS_WRITE_CONCURRENCY` or the default). */
  concurrency: number;
  /** Median milliseconds of one event, each way. */
  sequentialMs: number;
  oursMs: number;
  /** Median over rounds of sequential / ours. */
  speedup: number;
  /** This process's CPU per member (lookups, handler and writes together), median over rounds, each way. */
  sequentialCpuMsPerMember: number;
  oursCpuMsPerMember: number;
  /** CPU time of the server process (the store's) per wall time while ours ran: 1 is one core saturated. */
  serverBusyDuringOurs: number;
}

const handler = grantHandler as unknown as (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

await runPhase<FanoutResult>(async ({ info, quick }) => {
  const rounds = quick ? 1 : 10;
  const warmups = quick ? 1 : 5;
  const output = quietOutput();
  const bare = bareContactClient(info.contact.slow, bareCredentialsFrom((name) => readFileSync(join(info.svidDir, name))));
  const store = new EntitlementStore({ tableName: ENTITLEMENTS_TABLE });
  let created = Math.floor(Date.now() / 1000);
  // Entitlements of this run only: a store kept across runs may hold later events of another run.
  const run = Math.random().toString(36).slice(2, 8);
  let family: string[] = [];
  const cpuMs = (since: NodeJS.CpuUsage) => {
    const used = process.cpuUsage(since);
    return (used.user + used.system) / 1000;
  };

  const sequential = async () => {
    const change = { ...grantCommand('user-50', `fanout_sequential_${run}`, ++created), familyId: '' };
    const cpuBefore = process.cpuUsage();
    const startedAt = performance.now();
    const purchaser = await bare.getUserInfo(change.purchaserId);
    const members = await bare.getFamilyMembers(purchaser.familyId);
    let applied = 0;
    for (const member of members) {
      if ((await store.apply(member.id, { ...change, familyId: purchaser.familyId })) === 'applied') applied++;
    }
    const ms = performance.now() - startedAt;
    const cpu = cpuMs(cpuBefore);
    if (applied !== members.length) throw new Error(`the sequential baseline applied ${applied} of ${members.length} writes`);
    family = members.map((m) => m.id);
    return { ms, cpuPerMember: cpu / members.length, familyId: purchaser.familyId };
  };
  const ours = async (familyId: string) => {
    const command = grantCommand('user-50', `fanout_ours_${run}`, ++created);
    const event = sqsEventOf(command);
    const context = invocationContext(event.Records[0]!.messageId);
    const serverCpuBefore = processCpuMs(info.pid);
    const cpuBefore = process.cpuUsage();
    const startedAt = performance.now();
    const result = await handler(event, context);
    const ms = performance.now() - startedAt;
    const cpu = cpuMs(cpuBefore);
    const serverCpu = processCpuMs(info.pid) - serverCpuBefore;
    if (result.batchItemFailures.length > 0) throw new Error('grant-entitlements failed its record');
    // Not timed: the same event again must find itself in every member's item.
    const again = await store.applyToMembers(family, { ...command, familyId });
    const duplicates = [...again.values()].filter((outcome) => outcome === 'duplicate').length;
    if (duplicates !== family.length) throw new Error(`grant-entitlements took effect for ${duplicates} of ${family.length} members`);
    return { ms, cpuPerMember: cpu / family.length, serverCpu };
  };

  // Not measured: the first of each opens connections (and ours loads its SVID); the next ones
  // let the JIT compile the write path, as in a container that has handled a few events.
  const { familyId } = await sequential();
  for (let i = 0; i < warmups; i++) {
    await ours(familyId);
    if (i > 0) await sequential();
  }
  const runs = { sequential: [] as number[], ours: [] as number[] };
  const cpu = { sequential: [] as number[], ours: [] as number[] };
  const ratios: number[] = [];
  let serverCpuMs = 0;
  for (let round = 0; round < rounds; round++) {
    // The side that goes first alternates.
    const sequentialFirst = round % 2 === 0 ? await sequential() : undefined;
    const oursRun = await ours(familyId);
    const sequentialRun = sequentialFirst ?? (await sequential());
    serverCpuMs += oursRun.serverCpu;
    runs.sequential.push(sequentialRun.ms);
    runs.ours.push(oursRun.ms);
    cpu.sequential.push(sequentialRun.cpuPerMember);
    cpu.ours.push(oursRun.cpuPerMember);
    ratios.push(sequentialRun.ms / oursRun.ms);
  }
  output.restore();
  bare.close();
  return {
    store: process.env.BENCH_STORE === 'latency' ? 'latency' : 'dynalite',
    rounds,
    members: family.length,
    concurrency: entitlementsWriteConcurrencyFromEnv() ?? ENTITLEMENT_STORE_DEFAULTS.concurrency,
    sequentialMs: median(runs.sequential),
    oursMs: median(runs.ours),
    speedup: median(ratios),
    sequentialCpuMsPerMember: median(cpu.sequential),
    oursCpuMsPerMember: median(cpu.ours),
    serverBusyDuringOurs: serverCpuMs / runs.ours.reduce((a, b) => a + b, 0),
  };
});
