import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeAll, afterAll, describe, expect, it } from 'vitest';
import { watchCode } from './code-watcher.js';
import { FunctionPool, type FunctionDefinition } from './function-pool.js';
import { InvocationHistory } from './invocation-history.js';

const COUNTER = new URL('../../fixtures/handlers/counter-handler.ts', import.meta.url);

let pool: FunctionPool | undefined;
let history: InvocationHistory;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'function-pool-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

afterEach(async () => {
  await pool?.close();
  pool = undefined;
});

function poolOf(modulePath: string, overrides: Partial<FunctionDefinition> = {}) {
  history = new InvocationHistory();
  pool = new FunctionPool({ name: 'counter', modulePath, timeoutSeconds: 10, memoryMb: 128, env: { ...process.env }, region: 'us-east-1', ...overrides }, history);
  return pool;
}

const invoke = (event: unknown = {}) => pool!.invoke({ event, trigger: 'invoke', detail: 'test' });

describe('local Lambda containers', () => {
  it('keeps module state between invocations of a warm container, and says cold then warm', async () => {
    poolOf(COUNTER.href);

    const first = await invoke();
    const second = await invoke();

    expect(first.outcome).toMatchObject({ ok: true, result: { invocations: 1 } });
    expect(second.outcome).toMatchObject({ ok: true, result: { invocations: 2 } });
    expect([first.record.cold, second.record.cold]).toEqual([true, false]);
    expect(first.record.initMs).toBeGreaterThan(0);
    expect(first.record.containerId).toBe(second.record.containerId);
  });

  it('gives each invocation its own log lines', async () => {
    poolOf(COUNTER.href);

    await invoke();
    const { record } = await invoke();

    expect(record.logs.map((l) => l.json)).toEqual([{ level: 'INFO', message: 'counted', invocations: 2 }]);
  });

  it('starts a second container for a concurrent invocation, as Lambda scales out', async () => {
    poolOf(COUNTER.href);

    const [a, b] = await Promise.all([invoke({ sleepMs: 300 }), invoke({ sleepMs: 300 })]);

    expect(a.record.containerId).not.toBe(b.record.containerId);
    expect([a.record.cold, b.record.cold]).toEqual([true, true]);
    expect(pool!.containerCount).toBe(2);
  });

  it('reports a thrown error as the runtime does, and the container stays warm', async () => {
    poolOf(COUNTER.href);

    const failed = await invoke({ fail: true });
    const next = await invoke();

    expect(failed.outcome).toMatchObject({
      ok: false,
      kind: 'handler',
      error: { errorType: 'CounterError', errorCode: 'COUNTER_ASKED_TO_FAIL', errorMessage: 'asked to fail on invocation 1' },
    });
    expect(failed.record.summary).toBe('COUNTER_ASKED_TO_FAIL: asked to fail on invocation 1');
    expect(next.outcome).toMatchObject({ ok: true, result: { invocations: 2 } });
  });

  it('times an invocation out as Sandbox.Timedout and starts the next one in a fresh container', async () => {
    poolOf(COUNTER.href, { timeoutSeconds: 0.5 });

    const slow = await invoke({ sleepMs: 5000 });
    const next = await invoke();

    expect(slow.outcome).toMatchObject({ ok: false, kind: 'timeout', error: { errorType: 'Sandbox.Timedout' } });
    expect(slow.outcome.ok ? '' : slow.outcome.error.errorMessage).toMatch(/^RequestId: [\w-]+ Error: Task timed out after 0\.\d\d seconds$/);
    expect(next.record.cold).toBe(true);
    expect(next.outcome).toMatchObject({ ok: true, result: { invocations: 1 } });
  });

  it('fails every invocation of a container whose module cannot load, with the import error', async () => {
    poolOf(pathToFileURL(join(dir, 'missing-handler.ts')).href);

    const { outcome, record } = await invoke();

    expect(outcome).toMatchObject({ ok: false, kind: 'init' });
    expect(record.summary).toMatch(/missing-handler/);
  });

  it('cold-starts the code as saved after a change (hot reload), with fresh module state', async () => {
    // Prepare: a copy of the handler in a watched folder.
    const source = await readFile(COUNTER, 'utf8');
    const functionsDir = join(dir, 'functions');
    const file = join(functionsDir, 'counter.ts');
    await import('node:fs/promises').then((fs) => fs.mkdir(functionsDir, { recursive: true }));
    await writeFile(file, source);
    poolOf(pathToFileURL(file).href);
    const changed = new Promise<string[]>((resolve) => {
      const stop = watchCode({ root: dir, folders: ['functions'], debounceMs: 50, onChange: (files) => (stop(), pool!.retireAll(), resolve(files)) });
    });
    await invoke();
    const warm = await invoke();

    // Act
    await writeFile(file, source.replace('version: 1', 'version: 2'));
    const files = await changed;
    const reloaded = await invoke();

    // Assess
    expect(warm.outcome).toMatchObject({ ok: true, result: { invocations: 2, version: 1 } });
    expect(files).toEqual([join('functions', 'counter.ts')]);
    expect(reloaded.record.cold).toBe(true);
    expect(reloaded.outcome).toMatchObject({ ok: true, result: { invocations: 1, version: 2 } });
  });
});
