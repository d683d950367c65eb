/**
 * A fresh process's first invocation, as Lambda does it: import the bundle (init), invoke its
 * `handler` once with a direct-invoke event, then report on file descriptor 3 and exit. The
 * benchmark bundles this runner too, so that no TypeScript loader is in the measured time.
 *
 *   node --expose-gc cold-start-runner.mjs <bundle.mjs> '<event JSON>'   (fd 3: a pipe)
 */
import { writeSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { installColdStartProbe, type ColdStartGaps, type ColdStartPhases } from './cold-start-probe.js';
import { invocationContext } from './lambda-events.js';

/** What the runner reports: milliseconds since the process started (Node's time origin). */
export interface ColdStartReport {
  ok: boolean;
  /** The bundle was imported (the end of Lambda's init phase). */
  initMs: number;
  /** The first invocation answered. */
  firstCallMs: number;
  phases?: ColdStartPhases;
  gaps?: ColdStartGaps;
  error?: string;
}

const [bundlePath, eventJson] = process.argv.slice(2);
const probe = installColdStartProbe();
let report: ColdStartReport;
try {
  const { handler } = (await import(pathToFileURL(bundlePath!).href)) as { handler: (event: unknown, context: unknown) => Promise<unknown> };
  const initMs = performance.now();
  await handler(JSON.parse(eventJson!), invocationContext('cold-1'));
  const firstCallMs = performance.now();
  report = { ok: true, initMs, firstCallMs, phases: probe.phases(initMs, firstCallMs), gaps: probe.gaps(initMs) };
} catch (error) {
  report = { ok: false, initMs: Number.NaN, firstCallMs: Number.NaN, error: error instanceof Error ? error.message : String(error) };
}
writeSync(3, JSON.stringify(report));
process.exit(0);
