/**
 * The containers of one function, as Lambda keeps them: an invocation takes an idle warm container
 * or starts a new one (a cold start), at most one invocation per container at a time. After a
 * code change ({@link FunctionPool.retireAll}) every container is retired once idle, so the next
 * invocation cold-starts the new code.
 */
import { randomUUID } from 'node:crypto';
import { FunctionContainer, type InvocationOutcome } from './function-container.js';
import type { InvocationHistory, InvocationRecord, Trigger } from './invocation-history.js';

export interface FunctionDefinition {
  name: string;
  /** File URL of the handler module. */
  modulePath: string;
  timeoutSeconds: number;
  memoryMb: number;
  /** The function's environment. */
  env: NodeJS.ProcessEnv;
  region: string;
}

export interface PoolOptions {
  /** Containers at most; more invocations wait for one to be free. */
  maxContainers: number;
}

export const POOL_DEFAULTS: PoolOptions = { maxContainers: 10 };

export interface InvocationRequest {
  event: unknown;
  trigger: Trigger;
  detail: string;
  requestId?: string;
}

export interface CompletedInvocation {
  record: InvocationRecord;
  outcome: InvocationOutcome;
}

/** A one-line summary of a result: an HTTP status, the failed records of a batch, or a key count. */
function summaryOf(result: unknown): string {
  if (result !== null && typeof result === 'object') {
    const r = result as { statusCode?: unknown; batchItemFailures?: unknown[] };
    if (typeof r.statusCode === 'number') return String(r.statusCode);
    if (Array.isArray(r.batchItemFailures)) return `batchItemFailures: ${r.batchItemFailures.length}`;
    const services = (result as { services?: { service?: unknown; up?: unknown }[] }).services;
    if (Array.isArray(services)) return services.map((s) => `${String(s.service)} ${s.up ? 'up' : 'down'}`).join(', ') || 'no services';
  }
  return 'returned';
}

export class FunctionPool {
  readonly definition: FunctionDefinition;
  readonly #history: InvocationHistory;
  readonly #options: PoolOptions;
  readonly #containers = new Set<FunctionContainer>();
  readonly #waiting: (() => void)[] = [];
  /** Busy containers of code that has changed since: dropped when their invocation ends. */
  readonly #stale = new Set<FunctionContainer>();
  #closed = false;

  constructor(definition: FunctionDefinition, history: InvocationHistory, opts: Partial<PoolOptions> = {}) {
    this.definition = definition;
    this.#history = history;
    this.#options = { ...POOL_DEFAULTS, ...opts };
  }

  /** Containers alive now. */
  get containerCount(): number {
    return [...this.#containers].filter((c) => !c.retired).length;
  }

  /** Runs one invocation on a warm container, or a new one; never throws for a function error. */
  async invoke(request: InvocationRequest): Promise<CompletedInvocation> {
    const container = await this.#acquire();
    const requestId = request.requestId ?? randomUUID();
    const cold = container.invocations === 0;
    const record: InvocationRecord = {
      requestId,
      functionName: this.definition.name,
      trigger: request.trigger,
      detail: request.detail,
      containerId: container.id,
      cold,
      startedAt: new Date().toISOString(),
      state: 'running',
      logs: [],
    };
    this.#history.started(record);
    try {
      const outcome = await container.invoke(request.event, this.definition.timeoutSeconds * 1000, requestId);
      if (cold) record.initMs = container.initMs;
      record.durationMs = outcome.durationMs;
      if (outcome.ok) {
        record.state = 'succeeded';
        record.result = outcome.result;
        record.summary = summaryOf(outcome.result);
      } else {
        record.state = 'failed';
        record.error = outcome.error;
        record.summary = `${outcome.error.errorCode ?? outcome.error.errorType}: ${outcome.error.errorMessage}`;
      }
      this.#history.ended(record);
      return { record, outcome };
    } finally {
      this.#release(container);
    }
  }

  /** Retires every container (idle ones now, busy ones when their invocation ends). */
  retireAll(): void {
    for (const container of this.#containers) {
      if (container.busy) this.#stale.add(container);
      else this.#drop(container);
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.#containers].map((c) => c.retire()));
    this.#containers.clear();
  }

  async #acquire(): Promise<FunctionContainer> {
    for (;;) {
      if (this.#closed) throw new Error(`${this.definition.name}: serve is shutting down`);
      const idle = [...this.#containers].find((c) => !c.busy && !c.retired);
      if (idle) {
        idle.busy = true;
        return idle;
      }
      for (const c of this.#containers) if (c.retired && !c.busy) this.#drop(c);
      if (this.#containers.size < this.#options.maxContainers) {
        const container = new FunctionContainer({
          functionName: this.definition.name,
          modulePath: this.definition.modulePath,
          env: this.definition.env,
          region: this.definition.region,
          memoryMb: this.definition.memoryMb,
          onLog: (line, requestId) => this.#history.logged(requestId ?? '', line) ?? this.#onInitLog(line),
        });
        container.busy = true;
        this.#containers.add(container);
        return container;
      }
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    }
  }

  #initLogListener: ((line: string) => void) | undefined;

  /** Where lines written outside any invocation (module init) go. */
  onInitLog(listener: (line: string) => void): void {
    this.#initLogListener = listener;
  }

  #onInitLog(line: string): undefined {
    this.#initLogListener?.(line);
    return undefined;
  }

  #release(container: FunctionContainer): void {
    container.busy = false;
    if (container.retired || this.#stale.delete(container)) this.#drop(container);
    this.#waiting.shift()?.();
  }

  #drop(container: FunctionContainer): void {
    this.#containers.delete(container);
    void container.retire();
  }
}
