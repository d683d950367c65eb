/**
 * The cold-start figure: a fresh Node process until its first successful call, for a bundled
 * function and the bundled bare client, measured from the benchmark (spawn to the runner's
 * report, so Node's own start is in both) and by the runner itself.
 */
import { spawn } from 'node:child_process';
import type { ColdStartGaps, ColdStartPhases } from './cold-start-probe.js';
import type { ColdStartReport } from './cold-start-runner.js';

export interface ColdStart {
  /** Spawn until the report arrived, milliseconds. */
  wallMs: number;
  /** As the runner measured from the process's time origin. */
  initMs: number;
  firstCallMs: number;
  phases: ColdStartPhases;
  gaps: ColdStartGaps;
}

/** The memory of get-user-info and grant-entitlements as deployed (`cdk/config.ts`). */
const FUNCTION_MEMORY_MB = 512;

/**
 * The arguments Lambda's bootstrap starts Node with for the Node.js runtimes: `--expose-gc`, the
 * header limit, and heap limits derived from the function's memory (a tenth of it for the young
 * generation, split into two semi-spaces, the rest for the old one). `--expose-gc` is a V8 flag,
 * which V8 keys its compile cache by; the heap limits are not.
 */
export const LAMBDA_NODE_ARGS = [
  '--expose-gc',
  '--max-http-header-size',
  '81920',
  `--max-semi-space-size=${Math.floor(FUNCTION_MEMORY_MB / 10 / 2)}`,
  `--max-old-space-size=${FUNCTION_MEMORY_MB - Math.floor(FUNCTION_MEMORY_MB / 10)}`,
];

/**
 * Runs `runner` on `bundle` in a fresh process with `env` (and nothing of this process's
 * environment but `PATH` and `HOME`; `NODE_OPTIONS` only as `env` sets it, as the stack sets it
 * from `runtimeEnvironment`), invoking it once with `event`.
 *
 * @throws when the first call failed or the process gave no report.
 */
export function coldStart(runner: string, bundle: string, event: unknown, env: Record<string, string>): Promise<ColdStart> {
  const startedAt = performance.now();
  const child = spawn(process.execPath, [...LAMBDA_NODE_ARGS, runner, bundle, JSON.stringify(event)], {
    stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NODE_OPTIONS: '', ...env },
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const reportPipe = child.stdio[3] as NodeJS.ReadableStream;
  let text = '';
  let wallMs = Number.NaN;
  reportPipe.on('data', (chunk: Buffer) => {
    if (text === '') wallMs = performance.now() - startedAt;
    text += chunk.toString('utf8');
  });
  return new Promise<ColdStart>((resolve, reject) => {
    child.once('exit', (code) => {
      if (text === '') return reject(new Error(`cold start of ${bundle} exited with code ${code} and no report: ${stderr.slice(-2000)}`));
      const report = JSON.parse(text) as ColdStartReport;
      if (!report.ok) return reject(new Error(`cold start of ${bundle} failed: ${report.error}; ${stderr.slice(-2000)}`));
      resolve({ wallMs, initMs: report.initMs, firstCallMs: report.firstCallMs, phases: report.phases!, gaps: report.gaps! });
    });
  });
}
