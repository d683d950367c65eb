/**
 * The HTTP API on `127.0.0.1:<PORT>`: the stack's routes (`http-routes.ts`) turned into payload
 * 2.0 events for the function containers (`api-gateway-v2.ts`), plus the local console under
 * `/_console` (not a deployed route). IAM authorisation of `GET /users/{userId}` is not emulated:
 * requests are not SigV4-checked and the event carries no `requestContext.authorizer.iam`.
 */
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  apiRequestId,
  BAD_REQUEST,
  httpAnswerOf,
  httpApiEvent,
  INTERNAL_SERVER_ERROR,
  NOT_FOUND,
  SERVICE_UNAVAILABLE,
  type HttpAnswer,
} from './api-gateway-v2.js';
import { consoleState, type ConsoleSources } from './console-state.js';
import type { FunctionPool } from './function-pool.js';
import { matchRoute } from './http-routes.js';

/** API Gateway HTTP APIs give up on an integration after 30 s, and take at most 10 MB. */
const INTEGRATION_TIMEOUT_MS = 30_000;
const PAYLOAD_LIMIT = 10 * 1024 * 1024;
const CONSOLE_PAGE = readFileSync(new URL('./console-page.html', import.meta.url));

export interface HttpApiOptions {
  pools: ReadonlyMap<string, FunctionPool>;
  console: ConsoleSources;
  /** A line for the terminal about a request that never reached a function. */
  report(line: string): void;
}

function send(response: ServerResponse, answer: HttpAnswer, requestId: string): void {
  response.writeHead(answer.statusCode, { ...answer.headers, 'apigw-requestid': requestId, 'content-length': String(answer.body.length) }).end(answer.body);
}

async function readBody(request: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > PAYLOAD_LIMIT) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Answers one request: a console path, a route's function, or API Gateway's own errors. */
export async function serveHttpRequest(request: IncomingMessage, response: ServerResponse, options: HttpApiOptions): Promise<void> {
  const requestId = apiRequestId();
  const method = request.method ?? 'GET';
  const rawUrl = request.url ?? '/';
  const path = rawUrl.split('?')[0]!;
  if (path === '/_console' || path.startsWith('/_console/')) {
    await serveConsole(path, method, request, response, options);
    return;
  }
  const match = matchRoute(method, path);
  if (!match) {
    options.report(`http api: ${method} ${path} 404: no route (routes: ${['POST /webhooks/payments', 'GET /users/{userId}'].join(', ')})`);
    send(response, NOT_FOUND, requestId);
    return;
  }
  const body = await readBody(request);
  if (body === undefined) {
    options.report(`http api: ${method} ${path} 413: the body exceeds 10 MB`);
    send(response, { statusCode: 413, headers: { 'content-type': 'application/json' }, body: Buffer.from('{"message":"Request Entity Too Large"}') }, requestId);
    return;
  }
  const host = request.headers.host ?? `${request.socket.localAddress}:${request.socket.localPort}`;
  const event = httpApiEvent(
    { method, url: rawUrl, headers: request.headers, body, sourceIp: request.socket.remoteAddress?.replace(/^::ffff:/, '') ?? '127.0.0.1', host, httpVersion: request.httpVersion },
    match,
    requestId,
  );
  const pool = options.pools.get(match.route.functionName)!;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), INTEGRATION_TIMEOUT_MS)));
  const invocation = pool.invoke({ event, trigger: 'http', detail: `${method} ${path}` });
  const completed = await Promise.race([invocation, timedOut]);
  clearTimeout(timer);
  if (completed === 'timeout') {
    options.report(`http api: ${method} ${path} 503: the integration took over 30 s`);
    send(response, SERVICE_UNAVAILABLE, requestId);
    return;
  }
  // A function error is API Gateway's 500; the function's own error stays in its logs.
  send(response, completed.outcome.ok ? httpAnswerOf(completed.outcome.result) : INTERNAL_SERVER_ERROR, requestId);
}

/** `/_console` (the page), `/_console/state` (JSON), `/_console/events` (server-sent events), `POST /_console/redrive`. */
async function serveConsole(path: string, method: string, request: IncomingMessage, response: ServerResponse, options: HttpApiOptions): Promise<void> {
  const sources = options.console;
  if (path === '/_console' || path === '/_console/') {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(CONSOLE_PAGE);
  } else if (path === '/_console/state') {
    response.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(await consoleState(sources)));
  } else if (path === '/_console/events') {
    response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
    response.write('retry: 1000\n\n');
    let queued: NodeJS.Timeout | undefined;
    const changed = () => {
      queued ??= setTimeout(() => {
        queued = undefined;
        response.write(`data: ${Date.now()}\n\n`);
      }, 100);
    };
    const stopListening = sources.history.listen(changed);
    // Visibility timeouts expire and the table changes without an invocation ending: refresh anyway.
    const tick = setInterval(changed, 2000);
    request.socket.once('close', () => {
      stopListening();
      clearInterval(tick);
      clearTimeout(queued);
    });
  } else if (path === '/_console/redrive' && method === 'POST') {
    const queue = sources.mapping?.options.queue;
    if (!queue?.redrive) {
      response.writeHead(409, { 'content-type': 'application/json' }).end(JSON.stringify({ message: 'this queue has no dead-letter queue serve can redrive' }));
      return;
    }
    const moved = await queue.redrive();
    options.report(`console: redrove ${moved} dead letter(s) to ${queue.url}`);
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ moved }));
  } else {
    send(response, NOT_FOUND, apiRequestId());
  }
}

export { BAD_REQUEST };
