import { Metadata, status, type CallOptions, type ClientUnaryCall, type ServiceError } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { unaryAttempt, type UnaryStarter } from '../../../shared/transport/unary-call.js';

/** A unary call that answers when told, and answers CANCELLED when cancelled, as grpc-js does. */
function fakeCall<Res>() {
  const state: { options?: Partial<CallOptions>; metadata?: Metadata; cancelled: number; answer?: (error: ServiceError | null, response?: Res) => void } = { cancelled: 0 };
  const start: UnaryStarter<Res> = (metadata, options, callback) => {
    state.metadata = metadata;
    state.options = options;
    state.answer = callback;
    return {
      cancel() {
        state.cancelled++;
        queueMicrotask(() => callback(Object.assign(new Error('1 CANCELLED: Cancelled on client'), { code: status.CANCELLED, details: 'Cancelled on client', metadata: new Metadata() })));
      },
    } as unknown as ClientUnaryCall;
  };
  return { start, state };
}

const info = (signal = new AbortController().signal) => ({ deadline: new Date(5_000), attempt: 1, signal });

describe('unaryAttempt', () => {
  it('passes the attempt deadline to gRPC and resolves with the response', async () => {
    const { start, state } = fakeCall<string>();

    const result = unaryAttempt(start, info());
    state.answer!(null, 'hello');

    await expect(result).resolves.toBe('hello');
    expect(state.options).toEqual({ deadline: new Date(5_000) });
    expect(state.metadata).toBeInstanceOf(Metadata);
  });

  it('rejects with the raw grpc error', async () => {
    const { start, state } = fakeCall<string>();
    const raw = Object.assign(new Error('5 NOT_FOUND'), { code: status.NOT_FOUND, details: 'x', metadata: new Metadata() });

    const result = unaryAttempt(start, info());
    state.answer!(raw);

    await expect(result).rejects.toBe(raw);
  });

  it('cancels the call when the attempt signal aborts', async () => {
    const { start, state } = fakeCall<string>();
    const attempt = new AbortController();

    const result = unaryAttempt(start, info(attempt.signal));
    attempt.abort();

    await expect(result).rejects.toMatchObject({ code: status.CANCELLED });
    expect(state.cancelled).toBe(1);
  });

  it('cancels the call when the caller signal aborts', async () => {
    const { start, state } = fakeCall<string>();
    const caller = new AbortController();

    const result = unaryAttempt(start, info(), caller.signal);
    caller.abort();

    await expect(result).rejects.toMatchObject({ code: status.CANCELLED });
    expect(state.cancelled).toBe(1);
  });

  it('reports a call cancelled because a signal timed out as DEADLINE_EXCEEDED', async () => {
    const { start, state } = fakeCall<string>();
    const attempt = new AbortController();

    const result = unaryAttempt(start, info(attempt.signal));
    attempt.abort(new DOMException('the call deadline passed', 'TimeoutError'));

    await expect(result).rejects.toMatchObject({ code: status.DEADLINE_EXCEEDED, details: 'Deadline exceeded' });
    expect(state.cancelled).toBe(1);
  });

  it('cancels at once when a signal has already aborted', async () => {
    const { start, state } = fakeCall<string>();

    await expect(unaryAttempt(start, info(AbortSignal.abort()))).rejects.toMatchObject({ code: status.CANCELLED });
    expect(state.cancelled).toBe(1);
  });

  it('stops listening to the signals once the call settled', async () => {
    const { start, state } = fakeCall<string>();
    const caller = new AbortController();

    const result = unaryAttempt(start, info(), caller.signal);
    state.answer!(null, 'done');
    await result;
    caller.abort();

    expect(state.cancelled).toBe(0);
  });
});
