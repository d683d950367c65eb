/**
 * An open breaker's rejection: the contact-service answers UNAVAILABLE until the breaker of the
 * full-stack handler opens, then every invocation is timed while it rejects. The figure is the
 * p99 of the whole invocation (middy, both middlewares, the rejection's WARN line and metrics),
 * and the proof that nothing reached the network: the policy saw no attempt and the
 * contact-service no call.
 */
import { status } from '@grpc/grpc-js';
import { MeshCallError } from '../../../shared/errors.js';
import { invocationContext } from '../lambda-events.js';
import { serverStats, setContactFault } from '../bench-server.js';
import { invoke, meshRuntime } from '../mesh-handler.js';
import { runPhase } from '../phase.js';
import { quietOutput } from '../quiet-output.js';
import { median, percentile } from '../stats.js';

export interface BreakerResult {
  rejections: number;
  rounds: number;
  p50Ms: number;
  /** The median over rounds of each round's p99. */
  p99Ms: number;
  maxMs: number;
  /** Attempts the policy started and calls the contact-service received while open. */
  attempts: number;
  serverCalls: number;
}

await runPhase<BreakerResult>(async ({ info, quick }) => {
  const rounds = quick ? 1 : 10;
  const perRound = quick ? 100 : 300;
  const output = quietOutput();
  let invocation = 0;
  const call = (context = invocationContext(`req-${++invocation}`)) => invoke({ userId: 'user-1' }, context);
  await call(); // the SVID and the connection: a healthy start
  const { policy } = meshRuntime().service('contact-service');
  await setContactFault(info, 'faulty', { kind: 'status', code: status.UNAVAILABLE });
  for (let i = 0; i < 20 && policy.state !== 'open'; i++) await call().catch(() => undefined);
  if (policy.state !== 'open') throw new Error(`the breaker did not open (state ${policy.state})`);

  let attempts = 0;
  const stopCounting = policy.onAttempt(() => attempts++);
  const callsBefore = (await serverStats(info)).contactCalls.faulty;
  const all: number[] = [];
  const roundP99s: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const samples: number[] = [];
    for (let i = 0; i < perRound; i++) {
      const context = invocationContext(`req-${++invocation}`);
      const startedAt = performance.now();
      const error = await call(context).then(() => undefined, (e: unknown) => e);
      samples.push(performance.now() - startedAt);
      if (!(error instanceof MeshCallError) || error.code !== 'MESH_BREAKER_OPEN') throw new Error(`expected MESH_BREAKER_OPEN, got ${String(error)}`);
    }
    roundP99s.push(percentile(samples, 99));
    all.push(...samples);
  }
  const serverCalls = (await serverStats(info)).contactCalls.faulty - callsBefore;
  stopCounting();
  await setContactFault(info, 'faulty', { kind: 'none' });
  output.restore();
  return { rejections: rounds * perRound, rounds, p50Ms: percentile(all, 50), p99Ms: median(roundP99s), maxMs: Math.max(...all), attempts, serverCalls };
});
