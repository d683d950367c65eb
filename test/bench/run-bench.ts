/**
 * `npm run bench`: the mesh layer measured side by side against a bare @grpc/grpc-js client, on
 * loopback, with the servers in a process of their own (`contact-server.ts`).
 *
 *   npm run bench                 full run (about 2–3 minutes on 2 cores), table then JSON
 *   npm run bench -- --quick      a short sanity run: every figure, none of them meaningful
 *   npm run bench -- --json       only the JSON line
 *   npm run bench -- --only fanout[,warm,…]
 *                                 only these phases (see `BENCH_PHASES`), e.g. to iterate on one;
 *                                 the others' figures are `null` in the JSON and "not measured"
 *                                 in the table (the bundle sizes are always measured)
 *
 * Every comparison is a ratio measured within one run, the two sides interleaved (alternating
 * batches, alternating which goes first), and reported as the median over rounds: a noisy
 * machine slows both sides alike, and the ratio stays honest. The last line of stdout is always
 * one JSON object with the figures (see {@link BenchFigures}).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { functionEnvironment, startBenchServer, type BenchServerInfo } from './bench-server.js';
import { buildBundles, FUNCTION_BUNDLES, type BuiltBundles } from './bundles.js';
import { COLD_START_PHASES, type ColdStartPhases } from './cold-start-probe.js';
import { coldStart, type ColdStart } from './cold-start.js';
import { describeMachine } from './machine.js';
import { spawnPhase, type PhaseOptions } from './phase.js';
import type { BreakerResult } from './phases/breaker.js';
import type { DiscoveryTtlResult } from './phases/discovery-ttl.js';
import type { FanoutResult } from './phases/fanout.js';
import type { GrantThroughputResult } from './phases/grant-throughput.js';
import type { SteadyStateResult } from './phases/steady-state.js';
import type { WarmResult } from './phases/warm.js';
import { BENCH_PHASES, benchFigures, renderReport, type BenchPhase, type ColdStartFigure, type Measurements } from './report.js';
import { median } from './stats.js';

/**
 * The command line: `--quick`, `--json`, and `--only <phase>[,<phase>…]` (or `--only=…`,
 * repeatable).
 *
 * @throws for an unknown argument or phase, naming it and what is accepted.
 */
function parseBenchArgs(argv: readonly string[]): { quick: boolean; jsonOnly: boolean; phases: readonly BenchPhase[] } {
  let quick = false;
  let jsonOnly = false;
  const only: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--quick') quick = true;
    else if (arg === '--json') jsonOnly = true;
    else if (arg === '--only' || arg.startsWith('--only=')) {
      const value = arg === '--only' ? argv[++i] : arg.slice('--only='.length);
      if (!value) throw new Error(`--only needs a comma-separated list of phases: ${BENCH_PHASES.join(', ')}`);
      only.push(...value.split(',').map((phase) => phase.trim()));
    } else throw new Error(`unknown argument ${JSON.stringify(arg)}; accepted: --quick, --json, --only <phase>[,<phase>…]`);
  }
  const unknown = only.filter((phase) => !(BENCH_PHASES as readonly string[]).includes(phase));
  if (unknown.length > 0) throw new Error(`unknown phase ${unknown.map((p) => JSON.stringify(p)).join(', ')}; phases: ${BENCH_PHASES.join(', ')}`);
  return { quick, jsonOnly, phases: only.length === 0 ? BENCH_PHASES : BENCH_PHASES.filter((phase) => only.includes(phase)) };
}

const { quick, jsonOnly, phases: selectedPhases } = (() => {
  try {
    return parseBenchArgs(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`bench: ${(error as Error).message}\n`);
    process.exit(2);
  }
})();
const startedAt = performance.now();
const progress = (message: string) => {
  if (!jsonOnly) process.stderr.write(`bench [${((performance.now() - startedAt) / 1000).toFixed(1)} s]: ${message}\n`);
};

/** One way of deploying, measured as cold starts of a function bundle against the bare client's. */
interface ColdStartSpec {
  bundle: string;
  env: Record<string, string>;
  /** Run before every cold start of this spec (the compile cache's reset). */
  beforeEach?: () => void;
}

/**
 * Cold starts of each spec's function and of the bare client's bundle, in pairs whose order
 * alternates, all specs interleaved round by round (in an order that rotates), so that a machine
 * slower for a while slows every spec alike; each figure is the median of its pairs' ratios.
 */
async function coldStarts(runner: string, bare: string, specs: readonly ColdStartSpec[], rounds: number): Promise<ColdStartFigure[]> {
  const event = { userId: 'user-1' };
  const measured = specs.map(() => ({ function: [] as ColdStart[], bare: [] as ColdStart[], ratios: [] as number[] }));
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < specs.length; k++) {
      const index = (k + round) % specs.length;
      const spec = specs[index]!;
      const run = (bundle: string) => {
        spec.beforeEach?.();
        return coldStart(runner, bundle, event, spec.env);
      };
      const functionFirst = (round + k) % 2 === 0;
      const first = await run(functionFirst ? spec.bundle : bare);
      const second = await run(functionFirst ? bare : spec.bundle);
      const [fn, reference] = functionFirst ? [first, second] : [second, first];
      measured[index]!.function.push(fn);
      measured[index]!.bare.push(reference);
      measured[index]!.ratios.push(fn.wallMs / reference.wallMs);
    }
  }
  const summary = (runs: ColdStart[]) => ({
    wallMs: median(runs.map((r) => r.wallMs)),
    initMs: median(runs.map((r) => r.initMs)),
    firstCallMs: median(runs.map((r) => r.firstCallMs)),
    phases: Object.fromEntries(COLD_START_PHASES.map((phase) => [phase, median(runs.map((r) => r.phases[phase]))])) as unknown as ColdStartPhases,
    gaps: { setup: median(runs.map((r) => r.gaps.setup)), checks: median(runs.map((r) => r.gaps.checks)) },
  });
  return measured.map((m) => ({ pairs: rounds, ratio: median(m.ratios), function: summary(m.function), bare: summary(m.bare) }));
}

/**
 * Runs the selected measurements. A full run takes them one after the other, so that none
 * disturbs another; `--quick` runs them side by side (its figures only need to exist).
 */
async function measure(info: BenchServerInfo, built: BuiltBundles): Promise<Measurements> {
  const options: PhaseOptions = { info, quick };
  const deployed = functionEnvironment(info);
  const { handlers, runner, phases } = built;
  const results: Measurements = {
    phases: selectedPhases,
    bundles: { bare: handlers['bare-client'], functions: FUNCTION_BUNDLES.map((name) => handlers[name]) },
  };

  const tasks: Record<BenchPhase, () => Promise<void>> = {
    warm: async () => {
      progress('warm GetUserInfo, full stack against bare, interleaved');
      results.warm = await spawnPhase<WarmResult>(phases.warm, deployed, options);
    },
    cold: async () => {
      progress('cold starts, interleaved with the bare client');
      const bare = handlers['bare-client'].path;
      const benchFunction = handlers['bench-function'].path;
      if (quick) {
        [results.cold] = await coldStarts(runner, bare, [{ bundle: benchFunction, env: deployed }], 1);
        return;
      }
      // Each alternative with the bare client deployed the same way (the same NODE_OPTIONS, its own
      // compile cache): the ratio is what the mesh layer costs under that choice.
      const cache = built.compileCache!;
      const variants: [string, ColdStartSpec][] = [
        ['sourceMaps (NODE_OPTIONS=--enable-source-maps)', { bundle: benchFunction, env: { ...deployed, NODE_OPTIONS: '--enable-source-maps' } }],
        ['compileCache (V8 compile cache in the asset)', { bundle: benchFunction, env: { ...deployed, ...cache.env }, beforeEach: cache.reset }],
        ['secretsExtension (SVID through the Parameters and Secrets extension)', { bundle: benchFunction, env: functionEnvironment(info, { svid: 'extension' }) }],
        ['discoveryDnsFirst (Cloud Map\'s DNS records first)', { bundle: benchFunction, env: functionEnvironment(info, { discovery: 'dns-first' }) }],
        ['secretsExtension and discoveryDnsFirst (no SDK at a cold start)', { bundle: benchFunction, env: functionEnvironment(info, { svid: 'extension', discovery: 'dns-first' }) }],
        [
          'secretsExtension, discoveryDnsFirst and compileCache',
          { bundle: benchFunction, env: { ...functionEnvironment(info, { svid: 'extension', discovery: 'dns-first' }), ...cache.env }, beforeEach: cache.reset },
        ],
        ['SVID from files, static address (no AWS request)', { bundle: benchFunction, env: functionEnvironment(info, { svid: 'files', discovery: 'static' }) }],
      ];
      const figures = await coldStarts(runner, bare, [{ bundle: benchFunction, env: deployed }, { bundle: handlers['get-user-info'].path, env: deployed }, ...variants.map(([, spec]) => spec)], 10);
      [results.cold, results.coldGetUserInfo] = figures;
      results.coldVariants = variants.map(([label], i) => ({ label, figure: figures[i + 2]! }));
    },
    fanout: async () => {
      progress('grant-entitlements fan-out against a sequential loop');
      const slow = { discovery: 'static', contact: 'slow' } as const;
      results.fanout = await spawnPhase<FanoutResult>(phases.fanout, functionEnvironment(info, { ...slow, store: 'latency' }), options);
      if (quick) return;
      results.fanoutDynalite = await spawnPhase<FanoutResult>(phases.fanout, functionEnvironment(info, { ...slow, store: 'dynalite' }), options);
    },
    'grant-throughput': async () => {
      progress('grant-entitlements throughput against a bare loop, interleaved');
      // The contact-service +5 ms a call, like the store's 5 ms a write (the phase says why).
      const env = functionEnvironment(info, { discovery: 'static', contact: 'slow', store: 'latency' });
      results.grantThroughput = await spawnPhase<GrantThroughputResult>(phases['grant-throughput'], env, options);
    },
    breaker: async () => {
      progress('open-breaker rejections');
      results.breaker = await spawnPhase<BreakerResult>(phases.breaker, functionEnvironment(info, { discovery: 'static', contact: 'faulty' }), options);
    },
    'steady-state': async () => {
      progress('steady state: AWS calls and memory over many warm invocations');
      results.steady = await spawnPhase<SteadyStateResult>(phases['steady-state'], deployed, options);
    },
    'discovery-ttl': async () => {
      progress('Cloud Map calls per TTL window');
      const ttlEnv = { ...deployed, SERVICE_MESH_DISCOVERY_TTL_SECONDS: '1' };
      results.discoveryTtl = await spawnPhase<DiscoveryTtlResult>(phases['discovery-ttl'], ttlEnv, options);
    },
  };
  const selected = selectedPhases.map((phase) => tasks[phase]);
  if (quick) await Promise.all(selected.map((task) => task()));
  else for (const task of selected) await task();
  return results;
}

async function main(): Promise<void> {
  const machineAtStart = describeMachine();
  const scope = selectedPhases.length === BENCH_PHASES.length ? '' : ` of ${selectedPhases.join(', ')}`;
  progress(`${quick ? 'quick' : 'full'} run${scope} on ${machineAtStart.cpus} × ${machineAtStart.cpuModel}, node ${machineAtStart.node}`);
  const dir = await mkdtemp(join(import.meta.dirname, '../../node_modules/.bench-bundles-')); // the SDK is imported from node_modules
  progress('starting the servers; bundling as CDK does');
  const [server, built] = await Promise.all([startBenchServer(), buildBundles(dir, { sourceMaps: !quick, compileCache: !quick })]);
  let measurements: Measurements;
  try {
    measurements = await measure(server.info, built);
  } finally {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
  const figures = benchFigures(measurements);
  if (!jsonOnly) {
    const seconds = (performance.now() - startedAt) / 1000;
    process.stdout.write(renderReport(measurements, figures, { quick, seconds, machine: { ...machineAtStart, loadAtEnd: describeMachine().load } }));
  }
  process.stdout.write(`${JSON.stringify(figures)}\n`);
}

await main();
