/**
 * Lambda's Invoke API (`POST /2015-03-31/functions/{FunctionName}/invocations`) over the local
 * containers, so `aws lambda invoke --endpoint-url http://127.0.0.1:3001` and the SDK's
 * `LambdaClient` work, answered as Lambda answers (API reference, "Invoke"):
 *
 * - `RequestResponse` (default): 200 with the function's result; a function error is still 200,
 *   with `X-Amz-Function-Error: Unhandled` and the runtime's error payload
 *   `{"errorType","errorMessage","trace"}` (`Sandbox.Timedout` when it timed out).
 *   `X-Amz-Log-Type: Tail` adds the last 4 KB of its log lines, base64, in `X-Amz-Log-Result`.
 * - `Event`: 202, empty; the invocation runs after the answer (no asynchronous retries locally).
 * - `DryRun`: 204.
 * - `/2015-03-31/event-source-mappings`: see `event-source-mapping-api.ts`.
 * - Service errors carry `x-amzn-ErrorType` and `{"Type":"User","message"}`:
 *   `ResourceNotFoundException` (404) for an unknown function, `InvalidRequestContentException`
 *   (400) for a payload that is not JSON, `InvalidParameterValueException` (400) for an unknown
 *   invocation type, `RequestTooLargeException` (413) over 6 MB (256 KB for `Event`).
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { EVENT_SOURCE_MAPPINGS_PATH, serveEventSourceMappingRequest, type MappingEntry } from './event-source-mapping-api.js';
import type { FunctionPool } from './function-pool.js';
import type { InvocationRecord } from './invocation-history.js';

const INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;
const SYNC_PAYLOAD_LIMIT = 6 * 1024 * 1024;
const ASYNC_PAYLOAD_LIMIT = 256 * 1024;
const LOG_TAIL_BYTES = 4096;

export interface InvokeApiOptions {
  /** The functions by name. */
  pools: ReadonlyMap<string, FunctionPool>;
  region: string;
  accountId: string;
  /** The event source mappings `UpdateEventSourceMapping` and friends manage (`event-source-mapping-api.ts`). */
  mappings?: readonly MappingEntry[];
  /** A line for the terminal about a request that never reached a function. */
  report(line: string): void;
}

/** The function name of a `FunctionName` parameter: a name, `account:function:name`, or an ARN (qualifier dropped). */
export function functionNameOf(parameter: string): string {
  const decoded = decodeURIComponent(parameter);
  const at = decoded.indexOf('function:');
  if (at < 0) return decoded;
  return decoded.slice(at + 'function:'.length).split(':')[0]!;
}

function serviceError(response: ServerResponse, status: number, type: string, message: string, requestId: string): void {
  response
    .writeHead(status, { 'content-type': 'application/json', 'x-amzn-errortype': type, 'x-amzn-requestid': requestId })
    .end(JSON.stringify({ Type: 'User', message }));
}

/** The tail of an invocation's log, as `X-Amz-Log-Result` carries it. */
function logTail(record: InvocationRecord): string {
  const text = Buffer.from(record.logs.map((l) => `${l.line}\n`).join(''), 'utf8');
  return text.subarray(Math.max(0, text.length - LOG_TAIL_BYTES)).toString('base64');
}

/** Answers one request to the Invoke API; anything else is a 404 `UnknownOperationException`. */
export async function serveInvokeRequest(request: IncomingMessage, response: ServerResponse, options: InvokeApiOptions): Promise<void> {
  const requestId = randomUUID();
  const url = new URL(request.url ?? '/', 'http://localhost');
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks);
  if (url.pathname.startsWith(EVENT_SOURCE_MAPPINGS_PATH)) {
    serveEventSourceMappingRequest(request, response, body, options.mappings ?? [], options.report);
    return;
  }
  const match = INVOKE_PATH.exec(url.pathname);
  if (request.method !== 'POST' || !match) {
    options.report(`invoke api: ${request.method} ${url.pathname}: not an operation of this endpoint (UnknownOperationException)`);
    serviceError(response, 404, 'UnknownOperationException', `unknown operation ${request.method} ${url.pathname}`, requestId);
    return;
  }
  const name = functionNameOf(match[1]!);
  const pool = options.pools.get(name);
  if (!pool) {
    const arn = `arn:aws:lambda:${options.region}:${options.accountId}:function:${name}`;
    options.report(`invoke api: function not found: ${name} (ResourceNotFoundException); functions: ${[...options.pools.keys()].join(', ')}`);
    serviceError(response, 404, 'ResourceNotFoundException', `Function not found: ${arn}`, requestId);
    return;
  }
  const type = String(request.headers['x-amz-invocation-type'] ?? 'RequestResponse');
  if (!['RequestResponse', 'Event', 'DryRun'].includes(type)) {
    serviceError(response, 400, 'InvalidParameterValueException', `1 validation error detected: Value '${type}' at 'invocationType' failed to satisfy constraint: Member must satisfy enum value set: [Event, RequestResponse, DryRun]`, requestId);
    return;
  }
  if (body.length > (type === 'Event' ? ASYNC_PAYLOAD_LIMIT : SYNC_PAYLOAD_LIMIT)) {
    serviceError(response, 413, 'RequestTooLargeException', `Request must be smaller than ${type === 'Event' ? ASYNC_PAYLOAD_LIMIT : SYNC_PAYLOAD_LIMIT} bytes for the InvokeFunction operation`, requestId);
    return;
  }
  let event: unknown = {};
  if (body.length > 0) {
    try {
      event = JSON.parse(body.toString('utf8'));
    } catch (error) {
      options.report(`invoke api: ${name}: the payload is not JSON (InvalidRequestContentException)`);
      serviceError(response, 400, 'InvalidRequestContentException', `Could not parse request body into json: ${(error as Error).message}`, requestId);
      return;
    }
  }
  if (type === 'DryRun') {
    response.writeHead(204, { 'x-amzn-requestid': requestId }).end();
    return;
  }
  if (type === 'Event') {
    response.writeHead(202, { 'x-amzn-requestid': requestId, 'content-length': '0' }).end();
    await pool.invoke({ event, trigger: 'invoke-event', detail: 'Invoke (Event)', requestId });
    return;
  }
  const { record, outcome } = await pool.invoke({ event, trigger: 'invoke', detail: 'Invoke (RequestResponse)', requestId });
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'x-amzn-requestid': requestId,
    'x-amz-executed-version': '$LATEST',
  };
  if (request.headers['x-amz-log-type'] === 'Tail') headers['x-amz-log-result'] = logTail(record);
  if (outcome.ok) {
    response.writeHead(200, headers).end(JSON.stringify(outcome.result ?? null));
    return;
  }
  const { errorType, errorMessage, trace } = outcome.error;
  const payload = outcome.kind === 'timeout' ? { errorType, errorMessage } : { errorType, errorMessage, trace };
  response.writeHead(200, { ...headers, 'x-amz-function-error': 'Unhandled' }).end(JSON.stringify(payload));
}
