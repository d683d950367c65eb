/**
 * Warm `GetUserInfo`: the full stack (the middy handler of `mesh-handler.ts`) against the bare
 * client, one call in flight, to the same contact-service. Between them, the layers of the stack
 * one at a time, so that the difference can be read layer by layer:
 *
 * - `bare`: the bare client (`bare-client.ts`);
 * - `channel`: the mesh channel (SVID from its source, discovery, SPIFFE-authorised mTLS) through
 *   a `ContactClient` with a plain deadline, no policy;
 * - `policy`: `runtime.contactClient(context)`: the call policy and its metric record (a
 *   successful attempt's log line is DEBUG, off at the deployed INFO level);
 * - `middy`: middy with the mesh middleware around it;
 * - `full`: plus the observability middleware (log context, metrics flush): the function.
 *
 * Each round runs a batch of every variant, in an order that rotates from round to round, so that
 * whatever the machine does meanwhile hits all of them; each round gives a p50 and a p99 per
 * variant, and the figures are medians over rounds of the per-round ratios.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { meshMiddleware, type MeshContext } from '../../../shared/middleware/mesh-middleware.js';
import { ContactClient } from '../../../shared/transport/contact-client.js';
import { bareContactClient, bareCredentialsFrom } from '../bare-client.js';
import { invocationContext } from '../lambda-events.js';
import { invoke, meshRuntime } from '../mesh-handler.js';
import { runPhase } from '../phase.js';
import { quietOutput } from '../quiet-output.js';
import { median, percentile } from '../stats.js';

export const WARM_VARIANTS = ['bare', 'channel', 'policy', 'middy', 'full'] as const;
export type WarmVariant = (typeof WARM_VARIANTS)[number];

export interface WarmResult {
  rounds: number;
  callsPerBatch: number;
  /** Medians over rounds of the round's full/bare ratio. */
  p50Ratio: number;
  p99Ratio: number;
  /**
   * Per variant: milliseconds over every sample of every round, the median per-round p50 ratio to
   * bare, and the garbage collections that ran during its batches (count and pause, per 1000 calls).
   */
  variants: Record<WarmVariant, { p50: number; p99: number; p50Ratio: number; gcPer1000: number; gcMsPer1000: number }>;
  logLinesPerInvocation: number;
}

await runPhase<WarmResult>(async ({ info, quick }) => {
  const rounds = quick ? 2 : 30;
  const batch = quick ? 20 : 200;
  const warmUp = quick ? 20 : 400;
  const output = quietOutput();
  const bare = bareContactClient(info.contact.fast, bareCredentialsFrom((name) => readFileSync(join(info.svidDir, name))));

  const runtime = meshRuntime();
  await runtime.identity.current();
  const channelOnly = new ContactClient(runtime.service('contact-service').channel);
  const middyOnly = middy(async (event: { userId: string }, context: Context & MeshContext) => context.mesh.contact.getUserInfo(event.userId)).use(
    meshMiddleware({ runtime: meshRuntime }),
  ) as unknown as (event: { userId: string }, context: Context) => Promise<unknown>;

  let invocation = 0;
  const timed = async (call: (context: Context) => Promise<unknown>) => {
    // Lambda builds the context whatever runs inside: not part of the measured time.
    const context = invocationContext(`req-${++invocation}`);
    const startedAt = performance.now();
    await call(context);
    return performance.now() - startedAt;
  };
  const event = { userId: 'user-1' };
  const calls: Record<WarmVariant, (context: Context) => Promise<unknown>> = {
    bare: () => bare.getUserInfo(event.userId),
    channel: () => channelOnly.getUserInfo(event.userId),
    policy: (context) => runtime.contactClient(context).getUserInfo(event.userId),
    middy: (context) => middyOnly(event, context),
    full: (context) => invoke(event, context),
  };

  for (let i = 0; i < warmUp; i++) for (const variant of WARM_VARIANTS) await timed(calls[variant]);
  const fullLinesBefore = output.lines;
  for (let i = 0; i < batch; i++) await timed(calls.full);
  const logLinesPerInvocation = (output.lines - fullLinesBefore) / batch;

  // Each GC is put down to the variant whose batch was running: allocation is part of a layer's cost.
  let running: WarmVariant | undefined;
  const gc = Object.fromEntries(WARM_VARIANTS.map((v) => [v, { count: 0, ms: 0 }])) as Record<WarmVariant, { count: number; ms: number }>;
  const gcObserver = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      if (!running) continue;
      gc[running].count++;
      gc[running].ms += entry.duration;
    }
  });
  gcObserver.observe({ entryTypes: ['gc'] });

  const all = Object.fromEntries(WARM_VARIANTS.map((v) => [v, [] as number[]])) as Record<WarmVariant, number[]>;
  const p50Ratios = Object.fromEntries(WARM_VARIANTS.map((v) => [v, [] as number[]])) as Record<WarmVariant, number[]>;
  const p99Ratios: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const order = WARM_VARIANTS.map((_, i) => WARM_VARIANTS[(i + round) % WARM_VARIANTS.length]!);
    const samples = {} as Record<WarmVariant, number[]>;
    for (const variant of order) {
      samples[variant] = [];
      running = variant;
      for (let i = 0; i < batch; i++) samples[variant].push(await timed(calls[variant]));
      running = undefined;
      all[variant].push(...samples[variant]);
    }
    const bareP50 = percentile(samples.bare, 50);
    for (const variant of WARM_VARIANTS) p50Ratios[variant].push(percentile(samples[variant], 50) / bareP50);
    p99Ratios.push(percentile(samples.full, 99) / percentile(samples.bare, 99));
  }
  // GC entries are delivered asynchronously: let the last ones arrive.
  await new Promise((resolve) => setImmediate(resolve));
  gcObserver.disconnect();
  output.restore();
  bare.close();
  const per1000 = 1000 / (rounds * batch);
  const variants = Object.fromEntries(
    WARM_VARIANTS.map((v) => [
      v,
      {
        p50: percentile(all[v], 50),
        p99: percentile(all[v], 99),
        p50Ratio: median(p50Ratios[v]),
        gcPer1000: gc[v].count * per1000,
        gcMsPer1000: gc[v].ms * per1000,
      },
    ]),
  ) as WarmResult['variants'];
  return { rounds, callsPerBatch: batch, p50Ratio: variants.full.p50Ratio, p99Ratio: median(p99Ratios), variants, logLinesPerInvocation };
});
