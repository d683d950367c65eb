/**
 * The inside of one local Lambda container: a worker thread that imports one handler module at
 * its cold start and then runs one invocation at a time, as the Lambda runtime does. Module
 * state (clients, channels, caches) lives as long as the worker, so the second invocation is warm.
 *
 * Everything the function writes to stdout or stderr (Powertools' JSON lines, console.log) is
 * sent to the parent on the same port as the results, so each line reaches the parent before
 * the result of the invocation that wrote it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { lambdaContextOf } from '../../fixtures/lambda-context.js';
import type { ContainerRequest, ContainerMessage, ContainerWorkerData } from './container-protocol.js';

const port = parentPort!;
const data = workerData as ContainerWorkerData;
const send = (message: ContainerMessage) => port.postMessage(message);

let currentRequestId: string | undefined;
captureOutput('stdout');
captureOutput('stderr');

/** Routes a stream's writes to the parent line by line, tagged with the invocation in progress. */
function captureOutput(stream: 'stdout' | 'stderr'): void {
  let pending = '';
  const target = process[stream];
  target.write = ((chunk: string | Uint8Array, encodingOrCallback?: unknown, callback?: unknown) => {
    pending += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    let newline: number;
    while ((newline = pending.indexOf('\n')) >= 0) {
      send({ kind: 'log', stream, line: pending.slice(0, newline), requestId: currentRequestId });
      pending = pending.slice(newline + 1);
    }
    const done = typeof encodingOrCallback === 'function' ? encodingOrCallback : callback;
    if (typeof done === 'function') queueMicrotask(() => (done as () => void)());
    return true;
  }) as typeof target.write;
}

type Handler = (event: unknown, context: ReturnType<typeof lambdaContextOf>) => Promise<unknown>;

/** The error as the Lambda runtime serialises an uncaught one, plus a typed error's stable code. */
function serialiseError(error: unknown) {
  if (!(error instanceof Error)) return { errorType: typeof error, errorMessage: String(error), trace: [] as string[] };
  const code = (error as { code?: unknown }).code;
  return {
    errorType: error.name,
    errorMessage: error.message,
    ...(typeof code === 'string' ? { errorCode: code } : {}),
    trace: (error.stack ?? '').split('\n'),
  };
}

let handler: Handler | undefined;
const started = performance.now();
try {
  const module = (await import(data.modulePath)) as { handler?: unknown };
  if (typeof module.handler !== 'function') throw new TypeError(`${data.modulePath} exports no handler function`);
  handler = module.handler as Handler;
  send({ kind: 'ready', initMs: performance.now() - started });
} catch (error) {
  // An init error fails every invocation of this container, as Lambda reports Runtime.ImportModuleError/init errors.
  send({ kind: 'init-failed', error: serialiseError(error), initMs: performance.now() - started });
}

port.on('message', (request: ContainerRequest) => {
  void run(request);
});

async function run(request: ContainerRequest): Promise<void> {
  currentRequestId = request.requestId;
  const context = lambdaContextOf({
    functionName: data.functionName,
    remainingMs: request.timeoutMs,
    awsRequestId: request.requestId,
    region: data.region,
    memoryLimitInMB: String(data.memoryMb),
  });
  const startedAt = performance.now();
  try {
    const result = await handler!(request.event, context);
    send({ kind: 'result', requestId: request.requestId, ok: true, result: result === undefined ? null : result, durationMs: performance.now() - startedAt });
  } catch (error) {
    send({ kind: 'result', requestId: request.requestId, ok: false, error: serialiseError(error), durationMs: performance.now() - startedAt });
  } finally {
    currentRequestId = undefined;
  }
}
