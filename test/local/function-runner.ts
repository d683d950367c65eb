/**
 * Runs a function's real handler in this process the way the Lambda runtime would: the module is
 * imported once (it reads its environment then, so set `process.env` first), and each invocation
 * gets a Lambda-shaped context whose remaining time counts down from the timeout.
 */
import { lambdaContextOf } from '../fixtures/lambda-context.js';
import type { Context } from 'aws-lambda';
import type { FunctionName } from './invoke-options.js';

export type LambdaHandler = (event: unknown, context: Context) => Promise<unknown>;

type HandlerModule = { handler: unknown };

// Static imports, one per function, so the compiler checks every path.
const HANDLER_MODULES: Record<FunctionName, () => Promise<HandlerModule>> = {
  'payment-webhook': () => import('../../functions/payment-webhook/handler.js'),
  'grant-entitlements': () => import('../../functions/grant-entitlements/handler.js'),
  'get-user-info': () => import('../../functions/get-user-info/handler.js'),
  'mesh-health': () => import('../../functions/mesh-health/handler.js'),
};

/** Imports the function's handler module (its init: configuration is read and validated here). */
export async function loadHandler(name: FunctionName): Promise<LambdaHandler> {
  const module = await HANDLER_MODULES[name]();
  return module.handler as LambdaHandler;
}

/** A context for one invocation of `name`: a random request id, the remaining time counting down from `timeoutMs`. */
export function invocationContext(name: FunctionName, timeoutMs: number, region = process.env.AWS_REGION ?? 'us-east-1'): Context {
  return lambdaContextOf({ functionName: name, remainingMs: timeoutMs, region, memoryLimitInMB: '512' });
}

/** A handler that did not answer in time, as Lambda reports it. */
export class TaskTimedOutError extends Error {
  override readonly name = 'TaskTimedOut';
  readonly code = 'Task.TimedOut';
}

export type Outcome = { kind: 'returned'; result: unknown } | { kind: 'threw'; error: unknown };

/** Invokes `handler` once; a handler still running after `timeoutMs` fails with {@link TaskTimedOutError}. */
export async function invoke(name: FunctionName, handler: LambdaHandler, event: unknown, timeoutMs: number): Promise<Outcome> {
  const context = invocationContext(name, timeoutMs);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TaskTimedOutError(`task timed out after ${(timeoutMs / 1000).toFixed(2)} seconds`)), timeoutMs);
  });
  try {
    return { kind: 'returned', result: await Promise.race([handler(event, context), timedOut]) };
  } catch (error) {
    return { kind: 'threw', error };
  } finally {
    clearTimeout(timer);
  }
}

/** The error as Lambda's invoke API reports it, plus the typed error's stable code. */
export function errorPayload(error: unknown): { errorType: string; errorCode?: string; errorMessage: string } {
  if (!(error instanceof Error)) return { errorType: typeof error, errorMessage: String(error) };
  const code = (error as { code?: unknown }).code;
  return { errorType: error.name, ...(typeof code === 'string' ? { errorCode: code } : {}), errorMessage: error.message };
}

/** `<code>: <message>` for a typed error (`<name>: <message>` otherwise): the CLI's stderr line. */
export function errorLine(error: unknown): string {
  const { errorType, errorCode, errorMessage } = errorPayload(error);
  return `${errorCode ?? errorType}: ${errorMessage}`;
}
