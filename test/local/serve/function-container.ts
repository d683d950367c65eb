/**
 * One local Lambda execution environment: a worker thread (`container-worker.ts`) that imports
 * the function's handler module once (the cold start) and runs one invocation at a time. Module
 * state is kept between invocations (warm) until the container is retired: after a code change,
 * or after an invocation timed out or crashed it (Lambda resets the environment then too).
 */
import { randomUUID } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import type { ContainerMessage, ContainerWorkerData, FunctionError } from './container-protocol.js';

export interface FunctionContainerOptions {
  functionName: string;
  /** File URL of the handler module. */
  modulePath: string;
  /** The function's environment: the worker gets its own copy. */
  env: NodeJS.ProcessEnv;
  region: string;
  memoryMb: number;
  /** Every line the function writes, with the invocation it belongs to (undefined: init). */
  onLog(line: string, requestId: string | undefined): void;
}

/** How an invocation ended: the result, or the error as Lambda reports it. */
export type InvocationOutcome =
  | { ok: true; result: unknown; durationMs: number }
  | { ok: false; error: FunctionError; durationMs: number; kind: 'handler' | 'init' | 'timeout' | 'crash' };

/** The hook that lets the worker load TypeScript, whatever runs the parent (tsx, vitest). */
const WORKER_EXEC_ARGV = ['--import', 'tsx'];
const WORKER_URL = new URL('./container-worker.ts', import.meta.url);

let nextContainerNumber = 1;

/** A container; {@link FunctionContainer.start} it, then {@link FunctionContainer.invoke} one invocation at a time. */
export class FunctionContainer {
  readonly id: string;
  /** Cold until its first invocation has started. */
  invocations = 0;
  /** Set once the container cannot be used again. */
  retired = false;
  /** Reserved by its pool for one invocation. */
  busy = false;
  initMs = 0;
  readonly #options: FunctionContainerOptions;
  readonly #worker: Worker;
  #initError: FunctionError | undefined;
  #ready: Promise<void>;
  #pending: { requestId: string; resolve(outcome: InvocationOutcome): void } | undefined;

  constructor(options: FunctionContainerOptions) {
    this.#options = options;
    this.id = `${options.functionName}#${nextContainerNumber++}`;
    const workerData: ContainerWorkerData = {
      functionName: options.functionName,
      modulePath: options.modulePath,
      region: options.region,
      memoryMb: options.memoryMb,
    };
    this.#worker = new Worker(WORKER_URL, { workerData, env: { ...options.env }, execArgv: WORKER_EXEC_ARGV, stdout: false, stderr: false });
    // Init as Lambda's REPORT line counts it: the runtime's start (thread, TypeScript loader) and the module's import.
    const spawnedAt = performance.now();
    this.#ready = new Promise((resolve) => {
      const onMessage = (message: ContainerMessage) => {
        if (message.kind === 'ready' || message.kind === 'init-failed') {
          this.initMs = performance.now() - spawnedAt;
          if (message.kind === 'init-failed') this.#initError = message.error;
          resolve();
        }
      };
      this.#worker.on('message', onMessage);
      this.#worker.once('exit', () => resolve());
    });
    this.#worker.on('message', (message: ContainerMessage) => this.#onMessage(message));
    this.#worker.on('error', (error) => this.#crashed(error));
    this.#worker.on('exit', (code) => this.#crashed(new Error(`the container exited with code ${code}`)));
  }

  /** Waits for the cold start (the handler module imported, or its import failed). */
  start(): Promise<void> {
    return this.#ready;
  }

  /**
   * Runs one invocation. A handler still running after `timeoutMs` fails with `Sandbox.Timedout`
   * and the container is retired, as Lambda discards an environment whose invocation timed out.
   */
  async invoke(event: unknown, timeoutMs: number, requestId: string = randomUUID()): Promise<InvocationOutcome> {
    if (this.#pending) throw new Error(`container ${this.id} is running an invocation already`);
    this.invocations++;
    try {
      await this.#ready;
      // The function's timeout counts from the handler's start, not the cold start's.
      const started = performance.now();
      if (this.#initError) {
        this.retired = true;
        return { ok: false, error: this.#initError, durationMs: 0, kind: 'init' };
      }
      if (this.retired) return { ok: false, error: runtimeExit(requestId), durationMs: 0, kind: 'crash' };
      let timer: NodeJS.Timeout | undefined;
      const outcome = await new Promise<InvocationOutcome>((resolve) => {
        this.#pending = { requestId, resolve };
        timer = setTimeout(() => {
          this.#pending = undefined;
          const seconds = (timeoutMs / 1000).toFixed(2);
          resolve({
            ok: false,
            kind: 'timeout',
            durationMs: performance.now() - started,
            error: { errorType: 'Sandbox.Timedout', errorMessage: `RequestId: ${requestId} Error: Task timed out after ${seconds} seconds`, trace: [] },
          });
          void this.retire();
        }, timeoutMs);
        this.#worker.postMessage({ requestId, event, timeoutMs });
      });
      clearTimeout(timer);
      return outcome;
    } finally {
      this.#pending = undefined;
    }
  }

  /** Stops the worker; an invocation in flight fails as a crash. */
  async retire(): Promise<void> {
    this.retired = true;
    await this.#worker.terminate();
  }

  #onMessage(message: ContainerMessage): void {
    if (message.kind === 'log') this.#options.onLog(message.line, message.requestId);
    else if (message.kind === 'result' && this.#pending?.requestId === message.requestId) {
      const { resolve } = this.#pending;
      this.#pending = undefined;
      resolve(message.ok ? { ok: true, result: message.result, durationMs: message.durationMs } : { ok: false, error: message.error, durationMs: message.durationMs, kind: 'handler' });
    }
  }

  #crashed(error: Error): void {
    this.retired = true;
    const pending = this.#pending;
    this.#pending = undefined;
    if (pending) {
      this.#options.onLog(JSON.stringify({ level: 'ERROR', message: 'the container crashed', error: { name: error.name, message: error.message } }), pending.requestId);
      pending.resolve({ ok: false, kind: 'crash', durationMs: 0, error: runtimeExit(pending.requestId, error.message) });
    }
  }
}

/** What Lambda reports when the runtime process dies during an invocation. */
function runtimeExit(requestId: string, detail = 'the runtime exited'): FunctionError {
  return { errorType: 'Runtime.ExitError', errorMessage: `RequestId: ${requestId} Error: ${detail}`, trace: [] };
}
