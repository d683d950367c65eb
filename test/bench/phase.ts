/**
 * Each figure is measured in a process of its own ("phase"): a fresh heap for the RSS figure, one
 * module-scope runtime per process as in a Lambda container, and the function's environment set
 * before anything reads it. The benchmark runs a phase's bundle (see `bundles.ts`) with the
 * function's environment plus `BENCH_PHASE` (JSON {@link PhaseOptions}); the phase sends its
 * result back over IPC and exits.
 */
import { spawn } from 'node:child_process';
import type { BenchServerInfo } from './bench-server.js';

export interface PhaseOptions {
  info: BenchServerInfo;
  /** A short sanity run: few samples, figures not meaningful. */
  quick: boolean;
}

/** Runs a phase's body in its own process; the body's result goes back to the benchmark. */
export async function runPhase<R>(body: (options: PhaseOptions) => Promise<R>): Promise<void> {
  const options = JSON.parse(process.env.BENCH_PHASE ?? '{}') as PhaseOptions;
  try {
    const result = await body(options);
    process.send!({ ok: true, result }, () => process.exit(0));
  } catch (error) {
    process.send!({ ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) }, () => process.exit(1));
  }
}

/**
 * Runs the phase bundled at `bundle` in a child process (with `--expose-gc`), with `env` on top of
 * this process's environment, and returns what it sent. With `BENCH_CPU_PROF_DIR` set, the phase
 * writes a V8 CPU profile (`--cpu-prof`, which `NODE_OPTIONS` does not take) into that directory.
 *
 * @throws the phase's error, or when it exits without answering.
 */
export function spawnPhase<R>(bundle: string, env: Record<string, string>, options: PhaseOptions): Promise<R> {
  const name = bundle.split('/').pop();
  const profileDir = process.env.BENCH_CPU_PROF_DIR;
  const profile = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=${name}.${Date.now()}.cpuprofile`] : [];
  const child = spawn(process.execPath, ['--expose-gc', ...profile, bundle], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    env: { ...process.env, ...env, BENCH_PHASE: JSON.stringify(options) },
  });
  return new Promise<R>((resolve, reject) => {
    let answered = false;
    child.once('message', (message: { ok: boolean; result?: R; error?: string }) => {
      answered = true;
      if (message.ok) resolve(message.result as R);
      else reject(new Error(`phase ${name} failed: ${message.error}`));
    });
    child.once('exit', (code) => {
      if (!answered) reject(new Error(`phase ${name} exited with code ${code} without a result`));
    });
  });
}

/**
 * A full, memory-reducing GC (when the process runs with `--expose-gc`, as phases do): V8's
 * "last resort" collection also hands back the heap pages it keeps pooled for reuse. After a plain
 * `gc()` those pages stay resident, and they grow by some 40 MB over the first few thousand calls
 * in the bare client as in the full stack; RSS after this GC is memory actually retained.
 */
export function collectGarbage(): void {
  (globalThis as { gc?: (options?: object) => void }).gc?.({ type: 'major', execution: 'sync', flavor: 'last-resort' });
}
