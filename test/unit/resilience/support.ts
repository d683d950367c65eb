// Shared test fixtures for the resilience tests: gRPC-shaped errors, deferred results, settle tracking.
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { vi } from 'vitest';

/** An error shaped exactly like grpc-js's `ServiceError` for `code`. */
export function grpcError(code: status, details = 'from the test'): ServiceError {
  return Object.assign(new Error(`${code} ${status[code]}: ${details}`), { code, details, metadata: new Metadata() });
}

export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

/** A promise the test settles by hand, to hold an attempt in flight. */
export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

export interface Tracked<T> {
  status: 'pending' | 'fulfilled' | 'rejected';
  value?: T;
  reason?: unknown;
}

/** Observes a promise without awaiting it, so a test can assert it is still pending. */
export function track<T>(promise: Promise<T>): Tracked<T> {
  const tracked: Tracked<T> = { status: 'pending' };
  promise.then(
    (value) => Object.assign(tracked, { status: 'fulfilled', value }),
    (reason: unknown) => Object.assign(tracked, { status: 'rejected', reason }),
  );
  return tracked;
}

/** Starts tracking `promise`, advances fake time by `ms` (flushing microtasks), returns the outcome. */
export async function settleAfter<T>(promise: Promise<T>, ms = 0): Promise<Tracked<T>> {
  const tracked = track(promise);
  await vi.advanceTimersByTimeAsync(ms);
  return tracked;
}
