/**
 * grant-entitlements for a 50-member family (`user-50`) with the contact-service adding 5 ms per
 * call: the real handler (`functions/grant-entitlements/handler.ts`, one SQS record) against a
 * naive sequential baseline that looks the family up and then awaits each member's write one by
 * one. Both write through the same `EntitlementStore` class to the same dynalite table; the
 * baseline's two lookups go through the bare client (faster than the mesh, so the comparison
 * favours the baseline). Each run writes a new event, so every write takes effect.
 *
 * The store is dynalite, or (`BENCH_STORE=latency`) a stand-in whose writes only wait 5 ms:
 * dynalite spends milliseconds of its own CPU on every conditional write, so concurrent writes
 * queue behind its one thread; the stand-in shows what the code does against a store bound by
 * latency, as DynamoDB is. The server process's CPU time while ours runs says which it was.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { EntitlementStore } from '../../../shared/entitlements/entitlement-store.js';
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
  /** Median milliseconds of one event, each way. */
  sequentialMs: number;
  oursMs: number;
  /** Median over rounds of sequential / ours. */
  speedup: number;
  /** CPU time of the server process (the store's) per wall time while ours ran: 1 is one core saturated. */
  serverBusyDuringOurs: number;
}

const handler = grantHandler as unknown as (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

await runPhase<FanoutResult>(async ({ info, quick }) => {
  const rounds = quick ? 1 : 10;
  const output = quietOutput();
  const bare = bareContactClient(info.contact.slow, bareCredentialsFrom((name) => readFileSync(join(info.svidDir, name))));
  const store = new EntitlementStore({ tableName: ENTITLEMENTS_TABLE });
  let created = Math.floor(Date.now() / 1000);
  let members = 0;

  const sequential = async () => {
    const change = { ...grantCommand('user-50', 'fanout_sequential', ++created), familyId: '' };
    const startedAt = performance.now();
    const purchaser = await bare.getUserInfo(change.purchaserId);
    const family = await bare.getFamilyMembers(purchaser.familyId);
    let applied = 0;
    for (const member of family) {
      if ((await store.apply(member.id, { ...change, familyId: purchaser.familyId })) === 'applied') applied++;
    }
    const ms = performance.now() - startedAt;
    if (applied !== family.length) throw new Error(`the sequential baseline applied ${applied} of ${family.length} writes`);
    members = family.length;
    return ms;
  };
  const ours = async () => {
    const event = sqsEventOf(grantCommand('user-50', 'fanout_ours', ++created));
    const context = invocationContext(event.Records[0]!.messageId);
    const startedAt = performance.now();
    const result = await handler(event, context);
    const ms = performance.now() - startedAt;
    if (result.batchItemFailures.length > 0) throw new Error('grant-entitlements failed its record');
    return ms;
  };

  // The first of each opens connections (and ours loads its SVID): not measured.
  await sequential();
  await ours();
  const runs = { sequential: [] as number[], ours: [] as number[] };
  const ratios: number[] = [];
  let serverCpuMs = 0;
  const oursWithServerCpu = async () => {
    const cpuBefore = processCpuMs(info.pid);
    const ms = await ours();
    serverCpuMs += processCpuMs(info.pid) - cpuBefore;
    return ms;
  };
  for (let round = 0; round < rounds; round++) {
    const first = round % 2 === 0;
    const a = first ? await sequential() : await oursWithServerCpu();
    const b = first ? await oursWithServerCpu() : await sequential();
    const [seq, own] = first ? [a, b] : [b, a];
    runs.sequential.push(seq);
    runs.ours.push(own);
    ratios.push(seq / own);
  }
  output.restore();
  bare.close();
  return {
    store: process.env.BENCH_STORE === 'latency' ? 'latency' : 'dynalite',
    rounds,
    members,
    sequentialMs: median(runs.sequential),
    oursMs: median(runs.ours),
    speedup: median(ratios),
    serverBusyDuringOurs: serverCpuMs / runs.ours.reduce((a, b) => a + b, 0),
  };
});
