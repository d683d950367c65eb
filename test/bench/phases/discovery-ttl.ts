/**
 * Cloud Map calls per TTL window: the full-stack handler as deployed but with a 1 s discovery
 * TTL, invoked back to back (four invocations in flight) for a few seconds. Discovery caches a
 * result for its TTL with one lookup in flight, so the calls should track the windows elapsed,
 * however many invocations ran.
 */
import { invocationContext } from '../lambda-events.js';
import { serverStats } from '../bench-server.js';
import { invoke } from '../mesh-handler.js';
import { runPhase } from '../phase.js';
import { quietOutput } from '../quiet-output.js';

export interface DiscoveryTtlResult {
  ttlSeconds: number;
  seconds: number;
  invocations: number;
  cloudMapCalls: number;
  /** TTL windows begun during the run. */
  windows: number;
}

await runPhase<DiscoveryTtlResult>(async ({ info, quick }) => {
  const ttlSeconds = Number(process.env.SERVICE_MESH_DISCOVERY_TTL_SECONDS);
  const runMs = quick ? 1_000 : 6_000;
  const output = quietOutput();
  let invocations = 0;
  const call = () => invoke({ userId: 'user-1' }, invocationContext(`req-${++invocations}`));
  await call();
  const before = await serverStats(info);
  const startedAt = performance.now();
  const worker = async () => {
    while (performance.now() - startedAt < runMs) await call();
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  const seconds = (performance.now() - startedAt) / 1000;
  const after = await serverStats(info);
  output.restore();
  return {
    ttlSeconds,
    seconds,
    invocations: invocations - 1,
    cloudMapCalls: after.cloudMapCalls - before.cloudMapCalls,
    windows: Math.ceil(seconds / ttlSeconds),
  };
});
