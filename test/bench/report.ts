/**
 * What `npm run bench` prints: a table of every figure against its goal, details below it, and the
 * figures as one JSON object (the last line).
 */
import type { Bundle } from './bundles.js';
import { COLD_START_PHASES, type ColdStartGaps, type ColdStartPhases } from './cold-start-probe.js';
import type { Machine } from './machine.js';
import type { BreakerResult } from './phases/breaker.js';
import type { DiscoveryTtlResult } from './phases/discovery-ttl.js';
import type { FanoutResult } from './phases/fanout.js';
import type { GrantThroughputResult } from './phases/grant-throughput.js';
import type { SteadyStateResult } from './phases/steady-state.js';
import type { WarmResult, WarmVariant } from './phases/warm.js';
import { round } from './stats.js';

/** One cold-start comparison: medians of each side and of the pairs' ratios. */
export interface ColdStartFigure {
  pairs: number;
  ratio: number;
  function: ColdStartSide;
  bare: ColdStartSide;
}

/** Medians of one side's cold starts: spawn to answer, the runner's own marks, and each phase. */
export interface ColdStartSide {
  wallMs: number;
  initMs: number;
  firstCallMs: number;
  phases: ColdStartPhases;
  gaps: ColdStartGaps;
}

/** The measuring phases, in the order a full run takes them; `--only` picks some. */
export const BENCH_PHASES = ['warm', 'cold', 'fanout', 'grant-throughput', 'breaker', 'steady-state', 'discovery-ttl'] as const;

export type BenchPhase = (typeof BENCH_PHASES)[number];

/**
 * Everything one run measured. The bundles are always built (every phase runs one), so always
 * measured; a phase left out by `--only` leaves its results undefined.
 */
export interface Measurements {
  /** The phases this run took. */
  phases: readonly BenchPhase[];
  warm?: WarmResult;
  /** The bench function (get-user-info's mesh path) as deployed, against the bare client. */
  cold?: ColdStartFigure;
  /** The real get-user-info (it also reads DynamoDB), for reference; not in `--quick`. */
  coldGetUserInfo?: ColdStartFigure;
  /** The bench function deployed another way (a knob, no AWS request, …); not in `--quick`. */
  coldVariants?: { label: string; figure: ColdStartFigure }[];
  bundles: { bare: Bundle; functions: Bundle[] };
  /** Against the latency-bound store (DynamoDB's latency, 5 ms a write): the figure. */
  fanout?: FanoutResult;
  /** Against dynalite, the real implementation's check; not in `--quick`. */
  fanoutDynalite?: FanoutResult;
  /** grant-entitlements' records per second against a bare loop (families of 5, the 5 ms store). */
  grantThroughput?: GrantThroughputResult;
  breaker?: BreakerResult;
  steady?: SteadyStateResult;
  discoveryTtl?: DiscoveryTtlResult;
}

/**
 * The JSON line: the keys users and CI read. Every key is always there; a figure whose phase did
 * not run (`--only`) is `null`, never a number. `cold_start_phases_ms` is an object (see
 * {@link ColdStartPhases}) per side; the others are numbers.
 */
export type BenchFigures = Record<Exclude<(typeof BENCH_FIGURE_KEYS)[number], 'cold_start_phases_ms'>, number | null> & {
  cold_start_phases_ms: { function: ColdStartPhases; bare: ColdStartPhases } | null;
};

export const BENCH_FIGURE_KEYS = [
  'warm_p50_ratio',
  'warm_p99_ratio',
  'warm_call_path_p50_ratio',
  'cold_start_ratio',
  'cold_start_phases_ms',
  'bundle_ratio_max',
  'fanout_speedup',
  'grant_throughput_ratio',
  'open_breaker_p99_ms',
  'secrets_calls_per_1000',
  'cloudmap_calls_per_1000',
  'rss_growth_mb',
] as const;

/** `value` of a measurement rounded for the JSON line, or `null` when it was not measured. */
function figure<T>(measured: T | undefined, value: (m: T) => number): number | null {
  return measured === undefined ? null : round(value(measured));
}

function roundPhases(phases: ColdStartPhases): ColdStartPhases {
  return Object.fromEntries(COLD_START_PHASES.map((phase) => [phase, round(phases[phase], 1)])) as unknown as ColdStartPhases;
}

export function benchFigures(m: Measurements): BenchFigures {
  const bundleRatios = m.bundles.functions.map((b) => b.bytes / m.bundles.bare.bytes);
  return {
    warm_p50_ratio: figure(m.warm, (w) => w.p50Ratio),
    warm_p99_ratio: figure(m.warm, (w) => w.p99Ratio),
    warm_call_path_p50_ratio: figure(m.warm, (w) => w.variants.policy.p50Ratio),
    cold_start_ratio: figure(m.cold, (c) => c.ratio),
    cold_start_phases_ms: m.cold === undefined ? null : { function: roundPhases(m.cold.function.phases), bare: roundPhases(m.cold.bare.phases) },
    bundle_ratio_max: round(Math.max(...bundleRatios)),
    fanout_speedup: figure(m.fanout, (f) => f.speedup),
    grant_throughput_ratio: figure(m.grantThroughput, (g) => g.ratio),
    open_breaker_p99_ms: figure(m.breaker, (b) => b.p99Ms),
    secrets_calls_per_1000: figure(m.steady, (s) => s.secretsCallsPer1000),
    cloudmap_calls_per_1000: figure(m.steady, (s) => s.cloudMapCallsPer1000),
    rss_growth_mb: figure(m.steady, (s) => s.rssAfterAllMb - s.rssAfter1kMb),
  };
}

const ms = (value: number) => `${value.toFixed(value < 10 ? 2 : 0)} ms`;
const kb = (bytes: number) => `${Math.round(bytes / 1024)} KB`;
const x = (value: number) => `${value.toFixed(2)}×`;
const perSecond = (value: number) => `${Math.round(value)} records/s`;

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
  // A row whose phase did not run says so, with no verdict.
  const row = <T>(label: string, goal: string, measured: T | undefined, text: (m: T) => string, met: (m: T) => boolean) =>
    measured === undefined ? [label, goal, 'not measured', '–'] : [label, goal, text(measured), verdict(met(measured))];
  const largest = m.bundles.functions.reduce((a, b) => (b.bytes > a.bytes ? b : a));
  const { steady, warm, fanout, breaker, grantThroughput } = m;
  // Still measured, no longer a goal: grant throughput took its place (issue #18).
  const retired = <T>(label: string, measured: T | undefined, text: (m: T) => string) =>
    measured === undefined ? [label, '–', 'not measured', '–'] : [label, '–', text(measured), 'retired (see grant throughput)'];
  const figures = table([
    ['figure', 'goal', 'measured', ''],
    row('warm call path p50, mesh client / bare', '≤ 1.05', warm, (w) => `${f.warm_call_path_p50_ratio} (${ms(w.variants.policy.p50)} / ${ms(w.variants.bare.p50)})`, () => f.warm_call_path_p50_ratio! <= 1.05),
    row('warm invocation p50, function / bare', '≤ 1.15', warm, (w) => `${f.warm_p50_ratio} (${ms(w.variants.full.p50)} / ${ms(w.variants.bare.p50)})`, () => f.warm_p50_ratio! <= 1.15),
    row('warm invocation p99, function / bare', '≤ 1.25', warm, (w) => `${f.warm_p99_ratio} (${ms(w.variants.full.p99)} / ${ms(w.variants.bare.p99)})`, () => f.warm_p99_ratio! <= 1.25),
    row('cold start to first call, function / bare', '≤ 1.3', m.cold, (c) => `${f.cold_start_ratio} (${ms(c.function.wallMs)} / ${ms(c.bare.wallMs)})`, () => f.cold_start_ratio! <= 1.3),
    row('bundle size, largest function / bare', '≤ 2.0', m.bundles, (b) => `${f.bundle_ratio_max} (${largest.name} ${kb(largest.bytes)} / ${kb(b.bare.bytes)})`, () => f.bundle_ratio_max! <= 2),
    retired('fan-out to 50 members, sequential / ours (store: 5 ms a write)', fanout, (o) => `${x(f.fanout_speedup!)} (${ms(o.sequentialMs)} / ${ms(o.oursMs)})`),
    row('grant throughput, handler / bare loop', '≥ 0.9', grantThroughput, (g) => `${f.grant_throughput_ratio} (${perSecond(g.handlerRecordsPerSecond)} / ${perSecond(g.bareRecordsPerSecond)})`, () => f.grant_throughput_ratio! >= 0.9),
    row('open-breaker rejection p99', '≤ 1 ms, 0 attempts', breaker, (b) => `${ms(b.p99Ms)}, ${b.attempts} attempts, ${b.serverCalls} calls received`, (b) => f.open_breaker_p99_ms! <= 1 && b.attempts === 0 && b.serverCalls === 0),
    row('Secrets Manager calls per 1000 warm invocations', '≤ 1 per refresh window', steady, () => `${f.secrets_calls_per_1000}`, () => f.secrets_calls_per_1000! <= 1),
    row('Cloud Map calls per 1000 warm invocations', '≤ 1 per TTL window', steady, (s) => `${f.cloudmap_calls_per_1000} (${s.warmSeconds.toFixed(0)} s, TTL 30 s)`, (s) => s.cloudMapCallsPer1000 * (s.invocations / 1000) <= Math.ceil(s.warmSeconds / 30)),
    row('RSS growth, 1k → 10k warm invocations', '≤ 10 MB', steady, () => `${f.rss_growth_mb} MB (after a memory-reducing GC)`, () => f.rss_growth_mb! <= 10),
  ]);

  const bundleRows = table([
    ['bundle', 'size', '/ bare', 'largest parts'],
    [m.bundles.bare.name, kb(m.bundles.bare.bytes), '1.00', topParts(m.bundles.bare)],
    ...m.bundles.functions.map((b) => [b.name, kb(b.bytes), (b.bytes / m.bundles.bare.bytes).toFixed(2), topParts(b)]),
  ]);

  const sections: (string | undefined)[] = [
    warm && warmTable(warm),
    m.cold &&
      table([
        ['cold start (median of pairs; the bare client deployed the same way)', 'pairs', 'function', 'bare', 'ratio', 'init / first call: function', 'bare'],
        coldRow('bench function, as deployed (Secrets Manager, Cloud Map)', m.cold),
        ...(m.coldVariants ?? []).map(({ label, figure: c }) => coldRow(`bench function, ${label}`, c)),
        coldRow('get-user-info (also reads DynamoDB), as deployed', m.coldGetUserInfo),
      ]),
    m.cold && phaseTable(m.cold),
    bundleRows,
    (m.fanout ?? m.fanoutDynalite) && fanoutTable(m, run.quick),
    grantThroughput && grantThroughputTable(grantThroughput),
  ];
  const notes = [
    breaker &&
      `open breaker: ${breaker.rejections} rejections in ${breaker.rounds} rounds; p50 ${ms(breaker.p50Ms)}, ` +
        `p99 ${ms(breaker.p99Ms)} (median of the rounds' p99), max ${ms(breaker.maxMs)}`,
    steady &&
      `steady state: ${steady.invocations} warm invocations in ${steady.warmSeconds.toFixed(1)} s after a cold one ` +
        `(${steady.coldSecretsCalls} Secrets Manager, ${steady.coldCloudMapCalls} Cloud Map call); ` +
        `RSS ${steady.rssAfter1kMb.toFixed(1)} → ${steady.rssAfterAllMb.toFixed(1)} MB, heap ${steady.heapAfter1kMb.toFixed(1)} → ${steady.heapAfterAllMb.toFixed(1)} MB`,
    m.discoveryTtl &&
      `discovery TTL ${m.discoveryTtl.ttlSeconds} s: ${m.discoveryTtl.cloudMapCalls} Cloud Map calls in ${m.discoveryTtl.seconds.toFixed(1)} s ` +
        `(${m.discoveryTtl.windows} windows) over ${m.discoveryTtl.invocations} invocations, 4 in flight`,
  ].filter((line) => line !== undefined);
  const skipped = BENCH_PHASES.filter((phase) => !m.phases.includes(phase));

  const lines = [
    `payment-functions benchmark${run.quick ? ' (QUICK: figures not meaningful)' : ''}` +
      (skipped.length > 0 ? ` (--only ${m.phases.join(',')}: not measured: ${skipped.join(', ')})` : ''),
    `machine: ${run.machine.cpus} × ${run.machine.cpuModel}, ${run.machine.memoryGiB} GiB, node ${run.machine.node}; ` +
      `load average ${run.machine.load} at start, ${run.machine.loadAtEnd} at end; ${run.seconds.toFixed(0)} s`,
    '',
    figures,
    '',
    ...sections.filter((section) => section !== undefined).flatMap((section) => [section, '']),
    ...notes,
    ...(notes.length > 0 ? [''] : []),
  ];
  return `${lines.join('\n')}\n`;
}

const WARM_LAYERS: Record<WarmVariant, string> = {
  bare: 'bare grpc-js client',
  channel: '+ mesh channel (SVID, discovery, SPIFFE mTLS), plain deadline',
  policy: '+ call policy and its metric record (success logged at DEBUG)',
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

function fanoutTable(m: Measurements, quick: boolean): string {
  const row = (label: string, r: FanoutResult | undefined, absent: string) =>
    r
      ? [label, String(r.concurrency), ms(r.sequentialMs), ms(r.oursMs), x(r.speedup), `${r.sequentialCpuMsPerMember.toFixed(2)} / ${r.oursCpuMsPerMember.toFixed(2)} ms`, `${Math.round(r.serverBusyDuringOurs * 100)}%`]
      : [label, '–', '–', '–', '–', '–', absent];
  const { members, rounds } = m.fanout ?? m.fanoutDynalite!;
  return [
    table([
      [`fan-out to ${members} members, contact-service +5 ms a call (median of ${rounds} rounds)`, 'writes in flight', 'sequential', 'ours', 'speedup', 'client CPU per member: sequential / ours', 'server CPU while ours ran'],
      row('store answering each write after 5 ms, as DynamoDB (the figure)', m.fanout, 'not measured'),
      row('dynalite (real implementation, CPU-bound on this machine)', m.fanoutDynalite, quick ? 'not in --quick' : 'not measured'),
    ]),
    'The figure is the latency-bound store: the goal assumes a latency-bound mesh (the contact-service adds 5 ms a call),\n' +
      'as DynamoDB is from a Lambda. dynalite spends milliseconds of its own CPU per conditional write on one thread, so on\n' +
      'a small machine its row measures the emulator. Every write of ours is checked to have taken effect.',
  ].join('\n');
}

function grantThroughputTable(g: GrantThroughputResult): string {
  const side = (label: string, recordsPerSecond: number, batchMs: number, cpuMsPerRecord: number) => [label, perSecond(recordsPerSecond), ms(batchMs), `${cpuMsPerRecord.toFixed(2)} ms`];
  return [
    table([
      [`grant throughput, batches of ${g.batchSize} records, families of ${g.familySize} (median of ${g.rounds} rounds × ${g.batchesPerRound} batches a side)`, 'throughput', 'batch', 'client CPU per record'],
      side('grant-entitlements handler (middy, mesh client, store, Powertools)', g.handlerRecordsPerSecond, g.handlerBatchMs, g.handlerCpuMsPerRecord),
      side('bare loop (bare grpc-js client, plain DynamoDBClient)', g.bareRecordsPerSecond, g.bareBatchMs, g.bareCpuMsPerRecord),
    ]),
    `Both sides: contact-service +5 ms a call, store 5 ms a write; a batch's records all at once, each record's ${g.familySize} writes at once\n` +
      `(${g.batchSize * g.familySize} in flight). ${g.writesChecked} writes checked to have taken effect (each event applied again answers duplicate).`,
  ].join('\n');
}

function topParts(bundle: Bundle): string {
  return bundle.byPackage
    .slice(0, 4)
    .map(([name, bytes]) => `${name} ${kb(bytes)}`)
    .join(', ');
}

function coldRow(label: string, c: ColdStartFigure | undefined): string[] {
  if (!c) return [label, '–', '–', '–', '–', 'not in --quick', ''];
  const phases = (side: ColdStartSide) => `${ms(side.initMs)} / ${ms(side.firstCallMs)}`;
  return [label, String(c.pairs), ms(c.function.wallMs), ms(c.bare.wallMs), c.ratio.toFixed(2), phases(c.function), phases(c.bare)];
}

const PHASE_LABELS: Record<keyof ColdStartPhases, string> = {
  import: 'import (process start → bundle imported: Lambda\'s init)',
  svid: 'svid (Secrets Manager request)',
  discovery: 'discovery (Cloud Map request or DNS queries; overlaps svid)',
  handshake: 'handshake (tls.connect → secure)',
  first_call: 'first call (secure → the call\'s HTTP/2 stream closed)',
  flush: 'flush (answer → handler returned: middleware, metrics)',
};

/** Where the as-deployed cold start goes, phase by phase (medians per phase, so they need not add up). */
function phaseTable(c: ColdStartFigure): string {
  const row = (label: string, of: (side: ColdStartSide) => number) => [label, ms(of(c.function)), ms(of(c.bare)), ms(of(c.function) - of(c.bare))];
  return table([
    ['cold start, as deployed, by phase (median ms)', 'function', 'bare', 'difference'],
    row(PHASE_LABELS.import, (s) => s.phases.import),
    row('set-up (handler start → first request: middleware, runtime, SDK clients, signing)', (s) => s.gaps.setup),
    ...COLD_START_PHASES.slice(1, 3).map((phase) => row(PHASE_LABELS[phase], (s) => s.phases[phase])),
    row('checks (last answer → tls.connect: SVID parsed and checked, channel credentials)', (s) => s.gaps.checks),
    ...COLD_START_PHASES.slice(3).map((phase) => row(PHASE_LABELS[phase], (s) => s.phases[phase])),
    row('spawn → answer (incl. Node\'s own start)', (s) => s.wallMs),
  ]);
}
