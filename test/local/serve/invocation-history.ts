/**
 * What every local invocation did, for the console and the terminal: function, trigger, cold or
 * warm, duration, result and its own log lines. The last {@link INVOCATION_HISTORY_DEFAULTS.limit}
 * are kept; listeners hear of every start, log line and end.
 */
import type { FunctionError } from './container-protocol.js';

export type Trigger = 'http' | 'invoke' | 'invoke-event' | 'sqs' | 'schedule';

export interface LogEntry {
  /** The line as the function wrote it. */
  line: string;
  /** The parsed JSON object, when it is one. */
  json?: Record<string, unknown>;
}

export interface InvocationRecord {
  requestId: string;
  functionName: string;
  trigger: Trigger;
  /** What triggered it, for people: `POST /webhooks/payments`, `3 records`, … */
  detail: string;
  containerId: string;
  cold: boolean;
  /** The cold start's module import, when cold. */
  initMs?: number;
  startedAt: string;
  durationMs?: number;
  state: 'running' | 'succeeded' | 'failed';
  /** One line: `200`, `batchItemFailures: 1`, `USER_REQUEST_INVALID: …`. */
  summary?: string;
  result?: unknown;
  error?: FunctionError;
  logs: LogEntry[];
}

export type HistoryListener = (change: { kind: 'started' | 'log' | 'ended'; record: InvocationRecord; entry?: LogEntry }) => void;

export const INVOCATION_HISTORY_DEFAULTS = { limit: 100, logsPerInvocation: 500 } as const;

/** Parses a log line, keeping it as text when it is not a JSON object. */
export function logEntryOf(line: string): LogEntry {
  try {
    const json: unknown = JSON.parse(line);
    if (json !== null && typeof json === 'object' && !Array.isArray(json)) return { line, json: json as Record<string, unknown> };
  } catch {
    // Plain text (console.log): kept as it is.
  }
  return { line };
}

export class InvocationHistory {
  readonly #records: InvocationRecord[] = [];
  readonly #byId = new Map<string, InvocationRecord>();
  readonly #listeners = new Set<HistoryListener>();
  readonly #limit: number;

  constructor(limit: number = INVOCATION_HISTORY_DEFAULTS.limit) {
    this.#limit = limit;
  }

  /** Newest first. */
  recent(): readonly InvocationRecord[] {
    return [...this.#records].reverse();
  }

  get(requestId: string): InvocationRecord | undefined {
    return this.#byId.get(requestId);
  }

  listen(listener: HistoryListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  started(record: InvocationRecord): void {
    this.#records.push(record);
    this.#byId.set(record.requestId, record);
    while (this.#records.length > this.#limit) this.#byId.delete(this.#records.shift()!.requestId);
    this.#emit({ kind: 'started', record });
  }

  /** A line the invocation wrote; lines of an invocation no longer kept are dropped. */
  logged(requestId: string, line: string): LogEntry | undefined {
    const record = this.#byId.get(requestId);
    if (!record) return undefined;
    const entry = logEntryOf(line);
    if (record.logs.length < INVOCATION_HISTORY_DEFAULTS.logsPerInvocation) record.logs.push(entry);
    this.#emit({ kind: 'log', record, entry });
    return entry;
  }

  ended(record: InvocationRecord): void {
    this.#emit({ kind: 'ended', record });
  }

  #emit(change: Parameters<HistoryListener>[0]): void {
    for (const listener of this.#listeners) listener(change);
  }
}
