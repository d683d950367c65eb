/**
 * The seam between typed clients and the resilience layer: a client describes each call and hands
 * over one attempt; an executor decides deadlines, retries and breaking, and runs attempts.
 */

// One attempt's deadline, number and signal: the same shape the resilience policy hands out, so
// a ServicePolicy is a CallExecutor without adapting.
import type { AttemptInfo } from '../resilience/service-policy.js';

export type { AttemptInfo };

/** A call as the executor sees it. */
export interface CallDescriptor {
  /** The gRPC method name, e.g. `GetUserInfo`. */
  method: string;
  /** True when the method may safely run twice (retries are allowed). */
  idempotent: boolean;
  /**
   * The caller's cancellation, when it gave one. Attempts already stop when it aborts; an executor
   * should also stop retrying then.
   */
  signal?: AbortSignal;
}

/**
 * Runs a call's attempts. Attempts reject with the raw grpc-js error (a `ServiceError` with a
 * numeric `code`), so an executor can classify failures by status code; clients map to
 * `MeshCallError` only after the executor settles.
 */
export type CallExecutor = <T>(call: CallDescriptor, attempt: (info: AttemptInfo) => Promise<T>) => Promise<T>;

export interface DeadlineExecutorOptions {
  /** Each call's deadline, from its start. */
  timeoutSeconds: number;
  /** Epoch milliseconds. */
  now: () => number;
}

export const DEADLINE_EXECUTOR_DEFAULTS: DeadlineExecutorOptions = { timeoutSeconds: 10, now: Date.now };

/**
 * The executor used when no resilience layer is plugged in: one attempt per call, with a deadline
 * `timeoutSeconds` from its start. The attempt's signal never aborts; gRPC enforces the deadline
 * itself, so no timer outlives the call.
 */
export function deadlineExecutor(opts: Partial<DeadlineExecutorOptions> = {}): CallExecutor {
  const options = { ...DEADLINE_EXECUTOR_DEFAULTS, ...opts };
  return function runWithDeadline<T>(_call: CallDescriptor, attempt: (info: AttemptInfo) => Promise<T>): Promise<T> {
    const deadline = new Date(options.now() + options.timeoutSeconds * 1000);
    return attempt({ deadline, attempt: 1, signal: new AbortController().signal });
  };
}
