import { Metadata, status, type CallOptions, type ClientUnaryCall, type ServiceError } from '@grpc/grpc-js';
import type { AttemptInfo } from './call-executor.js';

/** Starts one unary call with the given metadata, options and callback (a generated client method). */
export type UnaryStarter<Res> = (
  metadata: Metadata,
  options: Partial<CallOptions>,
  callback: (error: ServiceError | null, response?: Res) => void,
) => ClientUnaryCall;

/**
 * Runs one attempt of a unary call: the attempt's deadline becomes the gRPC deadline, and aborting
 * the attempt's signal (or the caller's) cancels the call, which then rejects with grpc-js's own
 * `CANCELLED` — unless the signal fired because the deadline passed (`TimeoutError`), which is
 * reported as `DEADLINE_EXCEEDED`: the policy's deadline timer (a call that queued for a bulkhead
 * slot has one) and grpc-js's race by a millisecond, and the caller must see the same status
 * whichever wins. Rejects with the raw grpc-js error.
 */
export function unaryAttempt<Res>(start: UnaryStarter<Res>, info: AttemptInfo, callerSignal?: AbortSignal): Promise<Res> {
  return new Promise<Res>((resolve, reject) => {
    const signals = callerSignal ? [info.signal, callerSignal] : [info.signal];
    let deadlinePassed = false;
    const cancel = (): void => {
      deadlinePassed = signals.some((s) => s.aborted && (s.reason as { name?: unknown } | undefined)?.name === 'TimeoutError');
      call.cancel();
    };
    const call = start(new Metadata(), { deadline: info.deadline }, (error, response) => {
      for (const signal of signals) signal.removeEventListener('abort', cancel);
      if (error && deadlinePassed && error.code === status.CANCELLED) reject(deadlineExceeded(error));
      else if (error) reject(error);
      else resolve(response as Res);
    });
    for (const signal of signals) {
      if (signal.aborted) {
        cancel();
        break;
      }
      signal.addEventListener('abort', cancel, { once: true });
    }
  });
}

function deadlineExceeded(cancelled: ServiceError): ServiceError {
  return Object.assign(new Error(`${status.DEADLINE_EXCEEDED} DEADLINE_EXCEEDED: Deadline exceeded`), {
    code: status.DEADLINE_EXCEEDED,
    details: 'Deadline exceeded',
    metadata: cancelled.metadata,
  });
}
