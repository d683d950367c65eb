/**
 * What the fault-matrix files share: cold starts of the real handlers (a fresh module graph per
 * container, as Lambda gives each container), per-test log capture with the leak audit, and small
 * waiting helpers. Imports vitest, so only test files use it; the soak uses `log-tap.ts` directly.
 */
import type { APIGatewayProxyResult, Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { auditLogLines } from '../fixtures/log-audit.js';
import { lambdaContext } from '../fixtures/mesh-environment.js';
import { tapOutput, type LogTap } from './log-tap.js';

export type GrantHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;
export type UserInfoHandler = (event: unknown, context: Context) => Promise<unknown>;
export type WebhookHandler = (event: unknown, context: Context) => Promise<APIGatewayProxyResult>;

const HANDLERS = {
  grant: '../../functions/grant-entitlements/handler.js',
  userInfo: '../../functions/get-user-info/handler.js',
  webhook: '../../functions/payment-webhook/handler.js',
} as const;

interface HandlerOf {
  grant: GrantHandler;
  userInfo: UserInfoHandler;
  webhook: WebhookHandler;
}

/**
 * A cold start: a fresh copy of the handler module and everything it imports from the project
 * (runtime, breaker, channel, identity cache, telemetry), with `process.env` set to `baseEnv` plus
 * `env` first (an `undefined` value unsets a key). Earlier containers keep running untouched.
 *
 * Errors thrown by a cold-started handler come from its own copy of `shared/errors.ts`: match them
 * by `code` and `name`, not `instanceof`.
 *
 * Queue backoff is off unless `env` turns it on: `SimulatedSqs` has no
 * ChangeMessageVisibility, so these tests exercise the queue's fixed visibility timeout; the
 * backoff is tested against the local SQS (grant-entitlements' unit and integration tests) and
 * on the fleet simulation.
 */
export async function coldStart<K extends keyof HandlerOf>(
  kind: K,
  baseEnv: NodeJS.ProcessEnv,
  env: Record<string, string | undefined> = {},
): Promise<HandlerOf[K]> {
  vi.resetModules();
  const next: NodeJS.ProcessEnv = { QUEUE_BACKOFF_ENABLED: 'false', ...baseEnv };
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined) delete next[key];
    else next[key] = value;
  }
  process.env = next;
  const module = (await import(HANDLERS[kind])) as { handler: HandlerOf[K] };
  return module.handler;
}

/** The Lambda context of one invocation with `remainingMs` left. */
export function context(remainingMs = 30_000, requestId = 'req-reliability'): Context {
  return lambdaContext(remainingMs, requestId) as unknown as Context;
}

export interface TestLogs {
  /** The current test's lines, raw. */
  readonly lines: string[];
  /** The current test's lines parsed (non-JSON lines skipped). */
  json(): Record<string, unknown>[];
  /** The current test's log lines (not EMF). */
  logs(): Record<string, unknown>[];
  /** Every line of the file so far, for a file-wide audit. */
  readonly all: string[];
}

/**
 * Captures stdout/stderr for every test of the file and fails a test whose lines leak a PEM
 * block, a private key, a webhook secret or a signature (`auditLogLines`).
 */
export function auditedLogs(): TestLogs {
  let tap: LogTap | undefined;
  const all: string[] = [];
  beforeEach(() => {
    tap = tapOutput({ keep: true });
  });
  afterEach(() => {
    tap?.restore();
    const lines = tap?.lines ?? [];
    all.push(...lines);
    expect(auditLogLines(lines)).toEqual([]);
  });
  return {
    get lines() {
      return tap?.lines ?? [];
    },
    json: () => tap?.json() ?? [],
    logs: () => (tap?.json() ?? []).filter((doc) => !('_aws' in doc)),
    all,
  };
}

/**
 * Registers the file's last test: every line the file's tests wrote, at least `minLines` of them
 * (so the audit is not vacuous), leaks nothing. Call it after the file's other tests.
 */
export function auditTheWholeFile(logs: TestLogs, minLines: number): void {
  describe('the logs of this whole file', () => {
    it('hold no PEM block, private key, webhook secret or signature', () => {
      expect(logs.all.length).toBeGreaterThanOrEqual(minLines);
      expect(auditLogLines(logs.all)).toEqual([]);
    });
  });
}

/** The error codes logged for SQS message `messageId` (from the grant handler's failure lines). */
export function loggedErrorCodes(logs: Record<string, unknown>[], messageId: string): string[] {
  return logs
    .filter((l) => l['messageId'] === messageId && typeof l['error'] === 'object' && l['error'] !== null)
    .map((l) => String((l['error'] as { code?: unknown }).code));
}

/** The member ids each 'entitlement event applied' line reports, by outcome, for `eventId` (or all). */
export function outcomesLogged(logs: Record<string, unknown>[], eventId?: string) {
  const lines = logs.filter((l) => l['message'] === 'entitlement event applied' && (eventId === undefined || l['eventId'] === eventId));
  const of = (key: string) => lines.flatMap((l) => (l[key] as string[] | undefined) ?? []);
  return { applied: of('applied'), duplicate: of('duplicate'), superseded: of('superseded') };
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Waits until `condition()` holds, polling every 10 ms for at most `timeoutMs`; returns whether it did. */
export async function until(condition: () => boolean, timeoutMs = 5_000): Promise<boolean> {
  const giveUpAt = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > giveUpAt) return false;
    await sleep(10);
  }
  return true;
}

/**
 * Blocks the event loop for `ms`: no timer, socket event or keepalive runs, as while AWS freezes a
 * Lambda between invocations; wall time passes meanwhile.
 */
export function freeze(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Settles `promise` into its value or error, with how long it took. */
export async function timed<T>(promise: Promise<T>): Promise<{ value: T | undefined; error: unknown; ms: number }> {
  const startedAt = performance.now();
  const outcome = await promise.then(
    (value) => ({ value, error: undefined as unknown }),
    (error: unknown) => ({ value: undefined, error }),
  );
  return { ...outcome, ms: performance.now() - startedAt };
}
