/**
 * A long warm run of the full-stack handler as deployed (SVID from Secrets Manager, Cloud Map
 * discovery): the Secrets Manager and Cloud Map calls it makes once warm, and its resident memory
 * after 1k and after 10k invocations, each time after a memory-reducing full GC (see
 * `collectGarbage`), so that only what is kept counts.
 */
import { invocationContext } from '../lambda-events.js';
import { serverStats } from '../bench-server.js';
import { invoke } from '../mesh-handler.js';
import { collectGarbage, runPhase } from '../phase.js';
import { quietOutput } from '../quiet-output.js';

export interface SteadyStateResult {
  invocations: number;
  /** Calls during the warm invocations (after the first), scaled to 1000 invocations. */
  secretsCallsPer1000: number;
  cloudMapCallsPer1000: number;
  /** Calls by the first (cold) invocation. */
  coldSecretsCalls: number;
  coldCloudMapCalls: number;
  warmSeconds: number;
  rssAfter1kMb: number;
  rssAfterAllMb: number;
  heapAfter1kMb: number;
  heapAfterAllMb: number;
}

const MB = 1024 * 1024;

await runPhase<SteadyStateResult>(async ({ info, quick }) => {
  const invocations = quick ? 300 : 10_000;
  const first = quick ? 100 : 1_000;
  const output = quietOutput();
  const call = (i: number) => invoke({ userId: 'user-1' }, invocationContext(`req-${i}`));
  const before = await serverStats(info);
  await call(0);
  const cold = await serverStats(info);
  const startedAt = performance.now();
  const memory = () => {
    collectGarbage();
    const { rss, heapUsed } = process.memoryUsage();
    return { rss: rss / MB, heap: heapUsed / MB };
  };
  let after1k = { rss: 0, heap: 0 };
  for (let i = 1; i <= invocations; i++) {
    await call(i);
    if (i === first) after1k = memory();
  }
  const warmSeconds = (performance.now() - startedAt) / 1000;
  const afterAll = memory();
  const warm = await serverStats(info);
  output.restore();
  const per1000 = 1000 / invocations;
  return {
    invocations,
    secretsCallsPer1000: (warm.secretsManagerCalls - cold.secretsManagerCalls) * per1000,
    cloudMapCallsPer1000: (warm.cloudMapCalls - cold.cloudMapCalls) * per1000,
    coldSecretsCalls: cold.secretsManagerCalls - before.secretsManagerCalls,
    coldCloudMapCalls: cold.cloudMapCalls - before.cloudMapCalls,
    warmSeconds,
    rssAfter1kMb: after1k.rss,
    rssAfterAllMb: afterAll.rss,
    heapAfter1kMb: after1k.heap,
    heapAfterAllMb: afterAll.heap,
  };
});
