import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { BENCH_FIGURE_KEYS } from './report.js';

// The harness only: a --quick run's figures mean nothing, and speed goals live in the benchmark
// itself (`npm run bench`), never in tests.
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const run = promisify(execFile);

describe('npm run bench', () => {
  it('prints every figure as a finite number in the JSON object on its last line (--quick --json)', async () => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'test/bench/run-bench.ts', '--quick', '--json'], {
      cwd: ROOT,
      timeout: 90_000,
    });

    const lines = stdout.trim().split('\n');
    const figures = JSON.parse(lines.at(-1)!) as Record<string, unknown>;
    expect(lines).toHaveLength(1);
    expect(Object.keys(figures).sort()).toEqual([...BENCH_FIGURE_KEYS].sort());
    for (const key of BENCH_FIGURE_KEYS.filter((k) => k !== 'cold_start_phases_ms')) expect(Number.isFinite(figures[key]), key).toBe(true);
    // Both sides' cold start by phase; the function's went through every phase, the bare client's
    // read its PEMs and address at import.
    const phases = figures.cold_start_phases_ms as Record<'function' | 'bare', Record<string, number>>;
    for (const side of ['function', 'bare'] as const) {
      expect(Object.keys(phases[side]).sort(), side).toEqual(['discovery', 'first_call', 'flush', 'handshake', 'import', 'svid']);
      for (const [phase, ms] of Object.entries(phases[side])) expect(ms, `${side} ${phase}`).toBeGreaterThanOrEqual(0);
    }
    for (const phase of ['import', 'svid', 'discovery', 'handshake', 'first_call', 'flush']) expect(phases.function[phase], phase).toBeGreaterThan(0);
    expect([phases.bare.svid, phases.bare.discovery]).toEqual([0, 0]);
  }, 90_000);

  it('with --only, measures those phases and reports every other figure as null, not as a number', async () => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'test/bench/run-bench.ts', '--quick', '--json', '--only', 'fanout,grant-throughput'], {
      cwd: ROOT,
      timeout: 60_000,
    });

    const figures = JSON.parse(stdout.trim()) as Record<string, unknown>;
    expect(Object.keys(figures).sort()).toEqual([...BENCH_FIGURE_KEYS].sort());
    // The bundles are built for every run, so their sizes are always measured.
    const measured = ['fanout_speedup', 'grant_throughput_ratio', 'bundle_ratio_max'];
    for (const key of measured) expect(Number.isFinite(figures[key]), key).toBe(true);
    for (const key of BENCH_FIGURE_KEYS.filter((k) => !measured.includes(k))) expect(figures[key], key).toBeNull();
  }, 60_000);

  it('refuses an unknown phase, naming it and the phases', async () => {
    const failure = await run(process.execPath, ['--import', 'tsx', 'test/bench/run-bench.ts', '--only', 'fanout,warmth'], { cwd: ROOT }).catch(
      (error: { code: number; stderr: string }) => error,
    );

    expect(failure).toMatchObject({
      code: 2,
      stderr: 'bench: unknown phase "warmth"; phases: warm, cold, fanout, grant-throughput, breaker, steady-state, discovery-ttl\n',
    });
  });
});
