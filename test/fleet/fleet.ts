/**
 * The fleet simulation (`npm run fleet`): today's design and issue #16's shared design through the
 * same contact-service outage, one after the other in one process, and their figures side by side.
 *
 *   events ─▶ simulated SQS ─▶ event source mapping ─▶ grant-entitlements × N ─mTLS─▶ contact-service
 *             (visibility,      (batching, scaling,      (real handler, own module     (stopped for the
 *              receive counts,   MaximumConcurrency,      graph per container)          outage, started
 *              DLQ)              enable/disable) ◀── mesh-health (real, on its schedule)  again; loopback)
 *                                                         └──▶ dynalite (entitlements, mesh-state)
 *
 * The clock (simulated-clock.ts): `Date` reads a simulated time that flows at the real rate while
 * any work is in flight and skips the idle rest of each simulated second, so the outage's hours
 * pass in minutes while every call, write, breaker decision, lease and deadline runs the real code
 * on real sockets. Contention is never hidden: a busy round takes its real time in simulated time.
 *
 * `-- --containers N --rate R --outage-minutes M --json`; unknown arguments exit 2.
 */
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { tapOutput } from '../reliability/log-tap.js';
import { queryIsolatedLoader, type ContainerLoader } from './container-modules.js';
import { EVENT_SOURCE_MAPPING_DEFAULTS } from './event-source-mapping.js';
import { perContainerDesign, sharedDesign } from './fleet-designs.js';
import { startFleetEnvironment } from './fleet-environment.js';
import { prepareSharedState } from './mesh-state-table.js';
import { fleetSummary, formatFleetReport, type FleetReport } from './fleet-report.js';
import type { FleetTally } from './fleet-tally.js';
import { FLEET_DEFAULTS, type FleetOptions } from './fleet-options.js';
import { runDesign } from './run-design.js';
import { SimulatedClock } from './simulated-clock.js';

/** Runs both designs through the same outage; `load` cold-starts containers (tsx's hooks by default). */
export async function runFleet(opts: Partial<FleetOptions> = {}, load: ContainerLoader = queryIsolatedLoader): Promise<FleetReport> {
  const realStart = performance.now();
  const environment = await startFleetEnvironment();
  const clock = new SimulatedClock(Date.now());
  const uninstallClock = clock.install();
  const tallyRef: { current: FleetTally | undefined } = { current: undefined };
  // Counted, not audited: the soak audits the same lines for leaks, and the audit's regex on
  // hundreds of thousands of lines would only slow the fleet down.
  const tap = tapOutput({ keep: false, maxFindings: 0, onLine: (line) => tallyRef.current?.read(line) });
  const savedEnv = process.env;
  try {
    const designs = [perContainerDesign(), sharedDesign(EVENT_SOURCE_MAPPING_DEFAULTS.uuid)];
    const results = [];
    for (const design of designs) {
      process.env = { ...savedEnv, ...environment.env };
      for (const [key, value] of Object.entries(design.env)) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
      if (design.name === 'shared') await prepareSharedState(environment.dynamo.client);
      results.push(await runDesign(design, environment, clock, load, tallyRef, opts));
      // The next design starts after a quiet hour: no breaker, lease or channel state carries over.
      clock.skipTo(clock.now() + 3_600_000);
    }
    const [perContainer, shared] = results;
    const { containers, eventsPerSecond, outageMinutes } = { ...FLEET_DEFAULTS, ...opts };
    return {
      options: { containers, eventsPerSecond, outageMinutes },
      perContainer: perContainer!,
      shared: shared!,
      realSeconds: Math.round((performance.now() - realStart) / 1000),
    };
  } finally {
    process.env = savedEnv;
    tap.restore();
    uninstallClock();
    await environment.close();
  }
}

async function main(): Promise<number> {
  // Stack traces in the functions' WARN lines would otherwise be mapped back to TypeScript through
  // tsx's source maps, hundreds of thousands of times: the lines keep their stacks, unmapped.
  process.setSourceMapsEnabled(false);
  let values;
  try {
    ({ values } = parseArgs({
      strict: true,
      options: {
        containers: { type: 'string' },
        rate: { type: 'string' },
        'outage-minutes': { type: 'string' },
        json: { type: 'boolean' },
      },
    }));
  } catch (error) {
    process.stderr.write(`fleet: ${(error as Error).message}\nusage: npm run fleet -- [--containers N] [--rate EVENTS_PER_S] [--outage-minutes M] [--json]\n`);
    return 2;
  }
  const options: Partial<FleetOptions> = {};
  for (const [flag, key] of [['containers', 'containers'], ['rate', 'eventsPerSecond'], ['outage-minutes', 'outageMinutes']] as const) {
    const raw = values[flag];
    if (raw === undefined) continue;
    const value = Number(raw);
    if (!Number.isFinite(value) || value <= 0) {
      process.stderr.write(`fleet: --${flag} must be a positive number, got ${JSON.stringify(raw)}\n`);
      return 2;
    }
    options[key] = key === 'containers' ? Math.round(value) : value;
  }
  // Bound now: while the fleet runs, process.stdout.write is the log tap's.
  const write = process.stdout.write.bind(process.stdout);
  if (!values.json) options.progress = (line) => write(`${line}\n`);
  const report = await runFleet(options);
  if (values.json) write(`${JSON.stringify(fleetSummary(report))}\n`);
  else write(`${formatFleetReport(report)}\n`);
  return 0;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  // Exits explicitly: the containers' gRPC channels live in module scope, as in Lambda.
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`fleet failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exit(1);
    },
  );
}
