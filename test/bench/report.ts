/**
 * What `npm run bench` prints: a table of every figure against its goal, details below it, and the
 * figures as one JSON object (the last line).
 */
import type { Bundle } from './bundles.js';
import type { Machine } from './machine.js';
import type { BreakerResult } from './phases/breaker.js';
import type { DiscoveryTtlResult } from './phases/discovery-ttl.js';
import type { FanoutResult } from './phases/fanout.js';
import type { SteadyStateResult } from './phases/steady-state.js';
import type { WarmResult, WarmVariant } from './phases/warm.js';
import { round } from './stats.js';

/** One cold-start comparison: medians of each side and of the pairs' ratios. */
export interface ColdStartFigure {
  pairs: number;
  ratio: number;
  function: { wallMs: number; initMs: number; firstCallMs: number };
  bare: { wallMs: number; initMs: number; firstCallMs: number };
}

/** Everything one run measured. */
export interface Measurements {
  warm: WarmResult;
  /** The bench function (get-user-info's mesh path) as deployed, against the bare client. */
  cold: ColdStartFigure;
  /** The real get-user-info (it also reads DynamoDB), for reference; not in `--quick`. */
  coldGetUserInfo?: ColdStartFigure;
  /** The bench function with its SVID from files and a static address (no AWS call); not in `--quick`. */
  coldFromFiles?: ColdStartFigure;
  bundles: { bare: Bundle; functions: Bundle[] };
  /** Against dynalite: the figure. */
  fanout: FanoutResult;
  /** Against the latency-bound stand-in, for reference; not in `--quick`. */
  fanoutLatencyStore?: FanoutResult;
  breaker: BreakerResult;
  steady: SteadyStateResult;
  discoveryTtl: DiscoveryTtlResult;
}

/** The JSON line: the keys users and CI read. */
export interface BenchFigures {
  warm_p50_ratio: number;
  warm_p99_ratio: number;
  cold_start_ratio: number;
  bundle_ratio_max: number;
  fanout_speedup: number;
  open_breaker_p99_ms: number;
  secrets_calls_per_1000: number;
  cloudmap_calls_per_1000: number;
  rss_growth_mb: number;
}

export const BENCH_FIGURE_KEYS = [
  'warm_p50_ratio',
  'warm_p99_ratio',
  'cold_start_ratio',
  'bundle_ratio_max',
  'fanout_speedup',
  'open_breaker_p99_ms',
  'secrets_calls_per_1000',
  'cloudmap_calls_per_1000',
  'rss_growth_mb',
] as const satisfies readonly (keyof BenchFigures)[];

export function benchFigures(m: Measurements): BenchFigures {
  const bundleRatios = m.bundles.functions.map((b) => b.bytes / m.bundles.bare.bytes);
  return {
    warm_p50_ratio: round(m.warm.p50Ratio),
    warm_p99_ratio: round(m.warm.p99Ratio),
    cold_start_ratio: round(m.cold.ratio),
    bundle_ratio_max: round(Math.max(...bundleRatios)),
    fanout_speedup: round(m.fanout.speedup),
    open_breaker_p99_ms: round(m.breaker.p99Ms),
    secrets_calls_per_1000: round(m.steady.secretsCallsPer1000),
    cloudmap_calls_per_1000: round(m.steady.cloudMapCallsPer1000),
    rss_growth_mb: round(m.steady.rssAfterAllMb - m.steady.rssAfter1kMb),
  };
}

const ms = (value: number) => `${value.toFixed(value < 10 ? 2 : 0)} ms`;
const kb = (bytes: number) => `${Math.round(bytes / 1024)} KB`;
const x = (value: number) => `${value.toFixed(2)}×`;

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => `| ${r.map((cell, i) => cell.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(rows[0]!), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.slice(1).map(line)].join('\n');
}

/** The human part of the output: the figures table, then what each figure is made of. */
export function renderReport(
  m: Measurements,
  f: BenchFigures,
  run: { quick: boolean; seconds: number; machine: Machine & { loadAtEnd: number } },
): string {
  const verdict = (ok: boolean) => (run.quick ? '(quick)' : ok ? 'met' : 'MISSED');
  const largest = m.bundles.functions.reduce((a, b) => (b.bytes > a.bytes ? b : a));
  const { steady, warm, cold, fanout, breaker } = m;
  const figures = table([
    ['figure', 'goal', 'measured', ''],
    ['warm GetUserInfo p50, full stack / bare', '≤ 1.10', `${f.warm_p50_ratio} (${ms(warm.variants.full.p50)} / ${ms(warm.variants.bare.p50)})`, verdict(f.warm_p50_ratio <= 1.1)],
    ['warm GetUserInfo p99, full stack / bare', '≤ 1.25', `${f.warm_p99_ratio} (${ms(warm.variants.full.p99)} / ${ms(warm.variants.bare.p99)})`, verdict(f.warm_p99_ratio <= 1.25)],
    ['cold start to first call, function / bare', '≤ 1.3', `${f.cold_start_ratio} (${ms(cold.function.wallMs)} / ${ms(cold.bare.wallMs)})`, verdict(f.cold_start_ratio <= 1.3)],
    ['bundle size, largest function / bare', '≤ 2.0', `${f.bundle_ratio_max} (${largest.name} ${kb(largest.bytes)} / ${kb(m.bundles.bare.bytes)})`, verdict(f.bundle_ratio_max <= 2)],
    ['fan-out to 50 members, sequential / ours', '≥ 10×', `${x(f.fanout_speedup)} (${ms(fanout.sequentialMs)} / ${ms(fanout.oursMs)})`, verdict(f.fanout_speedup >= 10)],
    ['open-breaker rejection p99', '≤ 1 ms, 0 attempts', `${ms(breaker.p99Ms)}, ${breaker.attempts} attempts, ${breaker.serverCalls} calls received`, verdict(f.open_breaker_p99_ms <= 1 && breaker.attempts === 0 && breaker.serverCalls === 0)],
    ['Secrets Manager calls per 1000 warm invocations', '≤ 1 per refresh window', `${f.secrets_calls_per_1000}`, verdict(f.secrets_calls_per_1000 <= 1)],
    ['Cloud Map calls per 1000 warm invocations', '≤ 1 per TTL window', `${f.cloudmap_calls_per_1000} (${steady.warmSeconds.toFixed(0)} s, TTL 30 s)`, verdict(steady.cloudMapCallsPer1000 * (steady.invocations / 1000) <= Math.ceil(steady.warmSeconds / 30))],
    ['RSS growth, 1k → 10k warm invocations', '≤ 10 MB', `${f.rss_growth_mb} MB (after a memory-reducing GC)`, verdict(f.rss_growth_mb <= 10)],
  ]);

  const bundleRows = table([
    ['bundle', 'size', '/ bare', 'largest parts'],
    [m.bundles.bare.name, kb(m.bundles.bare.bytes), '1.00', topParts(m.bundles.bare)],
    ...m.bundles.functions.map((b) => [b.name, kb(b.bytes), (b.bytes / m.bundles.bare.bytes).toFixed(2), topParts(b)]),
  ]);

  const coldRows = table([
    ['cold start (median of pairs)', 'function', 'bare', 'ratio', 'init / first call: function', 'bare'],
    coldRow('bench function, as deployed (Secrets Manager, Cloud Map)', cold),
    coldRow('bench function, SVID from files, static address', m.coldFromFiles),
    coldRow('get-user-info (also reads DynamoDB), as deployed', m.coldGetUserInfo),
  ]);

  const ttl = m.discoveryTtl;
  const lines = [
    `payment-functions benchmark${run.quick ? ' (QUICK: figures not meaningful)' : ''}`,
    `machine: ${run.machine.cpus} × ${run.machine.cpuModel}, ${run.machine.memoryGiB} GiB, node ${run.machine.node}; ` +
      `load average ${run.machine.load} at start, ${run.machine.loadAtEnd} at end; ${run.seconds.toFixed(0)} s`,
    '',
    figures,
    '',
    warmTable(warm),
    '',
    coldRows,
    '',
    bundleRows,
    '',
    fanoutTable(m),
    '',
    `open breaker: ${breaker.rejections} rejections in ${breaker.rounds} rounds; p50 ${ms(breaker.p50Ms)}, ` +
      `p99 ${ms(breaker.p99Ms)} (median of the rounds' p99), max ${ms(breaker.maxMs)}`,
    `steady state: ${steady.invocations} warm invocations in ${steady.warmSeconds.toFixed(1)} s after a cold one ` +
      `(${steady.coldSecretsCalls} Secrets Manager, ${steady.coldCloudMapCalls} Cloud Map call); ` +
      `RSS ${steady.rssAfter1kMb.toFixed(1)} → ${steady.rssAfterAllMb.toFixed(1)} MB, heap ${steady.heapAfter1kMb.toFixed(1)} → ${steady.heapAfterAllMb.toFixed(1)} MB`,
    `discovery TTL ${ttl.ttlSeconds} s: ${ttl.cloudMapCalls} Cloud Map calls in ${ttl.seconds.toFixed(1)} s ` +
      `(${ttl.windows} windows) over ${ttl.invocations} invocations, 4 in flight`,
    '',
  ];
  return `${lines.join('\n')}\n`;
}

const WARM_LAYERS: Record<WarmVariant, string> = {
  bare: 'bare grpc-js client',
  channel: '+ mesh channel (SVID, discovery, SPIFFE mTLS), plain deadline',
  policy: '+ call policy, its log line and metric record',
  middy: '+ middy and the mesh middleware',
  full: '+ observability middleware (log context, metrics flush) = the function',
};

function warmTable(warm: WarmResult): string {
  const rows = (Object.keys(WARM_LAYERS) as WarmVariant[]).map((variant) => {
    const v = warm.variants[variant];
    return [WARM_LAYERS[variant], ms(v.p50), ms(v.p99), v.p50Ratio.toFixed(3), `${v.gcPer1000.toFixed(1)} / ${ms(v.gcMsPer1000)}`];
  });
  return [
    table([
      [`warm GetUserInfo, layer by layer (${warm.rounds} rounds × ${warm.callsPerBatch} calls each, order rotating)`, 'p50', 'p99', 'p50 / bare', 'GCs / pause per 1000 calls'],
      ...rows,
    ]),
    `${warm.logLinesPerInvocation.toFixed(1)} log/EMF lines per function invocation, written to /dev/null (their cost kept)`,
  ].join('\n');
}

function fanoutTable(m: Measurements): string {
  const row = (label: string, r: FanoutResult | undefined) =>
    r
      ? [label, ms(r.sequentialMs), ms(r.oursMs), x(r.speedup), `${Math.round(r.serverBusyDuringOurs * 100)}%`]
      : [label, '–', '–', '–', 'not in --quick'];
  return table([
    [`fan-out to ${m.fanout.members} members, contact-service +5 ms a call (median of ${m.fanout.rounds} rounds)`, 'sequential', 'ours', 'speedup', 'server CPU while ours ran'],
    row('dynalite (the figure)', m.fanout),
    row('store answering each write after 5 ms', m.fanoutLatencyStore),
  ]);
}

function topParts(bundle: Bundle): string {
  return bundle.byPackage
    .slice(0, 4)
    .map(([name, bytes]) => `${name} ${kb(bytes)}`)
    .join(', ');
}

function coldRow(label: string, c: ColdStartFigure | undefined): string[] {
  if (!c) return [label, '–', '–', '–', 'not in --quick', ''];
  const phases = (side: ColdStartFigure['bare']) => `${ms(side.initMs)} / ${ms(side.firstCallMs)}`;
  return [label, ms(c.function.wallMs), ms(c.bare.wallMs), c.ratio.toFixed(2), phases(c.function), phases(c.bare)];
}
