/**
 * API Gateway HTTP API, payload format 2.0, as AWS documents it ("Create AWS Lambda proxy
 * integrations for HTTP APIs"): the event a request becomes, and the HTTP answer a function's
 * result becomes.
 *
 * - Header names are lower-cased; repeated headers are joined with commas; `Cookie` headers move
 *   to `cookies`; repeated query parameters are joined with commas in `queryStringParameters`.
 * - The body is the exact bytes received: text types as a UTF-8 string, anything else (and any
 *   compressed body) base64-encoded with `isBase64Encoded: true`, so an HMAC over the raw body
 *   (Stripe's signature) verifies on the function's side.
 * - A result with a `statusCode` is a response (`headers`, `cookies`, `body`, `isBase64Encoded`);
 *   any other result is a 200 `application/json` of the JSON result (the inferred format).
 * - A function error answers 500 `{"message":"Internal Server Error"}`; a route that does not
 *   exist 404 `{"message":"Not Found"}`; an integration over 30 s 503 `{"message":"Service Unavailable"}`.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { RouteMatch } from './http-routes.js';

/** The account and API id local events carry. */
const LOCAL_ACCOUNT_ID = '000000000000';
const LOCAL_API_ID = 'local';

export interface HttpRequestParts {
  method: string;
  /** The request target as received: path and query string. */
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  sourceIp: string;
  /** `host:port` the server listens on. */
  host: string;
  httpVersion: string;
}

/** Content types API Gateway passes as text (not base64) when the body is not compressed. */
function isTextual(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  return (
    type.startsWith('text/') ||
    ['application/json', 'application/javascript', 'application/xml', 'application/ecmascript'].includes(type) ||
    type.endsWith('+json') ||
    type.endsWith('+xml')
  );
}

/** API Gateway's `requestContext.time`: `12/Mar/2020:19:03:58 +0000`. */
function requestTime(date: Date): string {
  const month = date.toLocaleString('en-US', { month: 'short', timeZone: 'UTC' });
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(date.getUTCDate())}/${month}/${date.getUTCFullYear()}:${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`;
}

/** API Gateway's request ids look like `JzRsPgQ3oAMEV5Q=`. */
export function apiRequestId(): string {
  return randomBytes(10).toString('base64');
}

/** The payload 2.0 event of `request` on the route it matched. */
export function httpApiEvent(request: HttpRequestParts, match: RouteMatch, requestId: string, now = new Date()): APIGatewayProxyEventV2 {
  const url = new URL(request.url, 'http://localhost');
  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined) continue;
    if (name === 'cookie') {
      cookies.push(...(Array.isArray(value) ? value : [value]).flatMap((v) => v.split(';').map((c) => c.trim()).filter(Boolean)));
      continue;
    }
    headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  const [, port = '80'] = request.host.split(':');
  headers['x-forwarded-for'] = request.sourceIp;
  headers['x-forwarded-port'] = port;
  headers['x-forwarded-proto'] = 'http';
  headers['x-amzn-trace-id'] = `Root=1-${Math.floor(now.getTime() / 1000).toString(16)}-${randomBytes(12).toString('hex')}`;

  const query: Record<string, string> = {};
  for (const [name, value] of url.searchParams) query[name] = name in query ? `${query[name]},${value}` : value;
  const rawQueryString = request.url.includes('?') ? request.url.slice(request.url.indexOf('?') + 1) : '';
  const routeKey = match.route.routeKey;
  const event: APIGatewayProxyEventV2 = {
    version: '2.0',
    routeKey,
    rawPath: url.pathname,
    rawQueryString,
    ...(cookies.length ? { cookies } : {}),
    headers,
    ...(Object.keys(query).length ? { queryStringParameters: query } : {}),
    requestContext: {
      accountId: LOCAL_ACCOUNT_ID,
      apiId: LOCAL_API_ID,
      domainName: request.host,
      domainPrefix: request.host.split('.')[0]!.split(':')[0]!,
      http: {
        method: request.method.toUpperCase(),
        path: url.pathname,
        protocol: `HTTP/${request.httpVersion}`,
        sourceIp: request.sourceIp,
        userAgent: headers['user-agent'] ?? '',
      },
      requestId,
      routeKey,
      stage: '$default',
      time: requestTime(now),
      timeEpoch: now.getTime(),
    },
    ...(Object.keys(match.pathParameters).length ? { pathParameters: match.pathParameters } : {}),
    isBase64Encoded: false,
  };
  if (request.body.length > 0) {
    const textual = isTextual(headers['content-type']) && headers['content-encoding'] === undefined;
    event.body = textual ? request.body.toString('utf8') : request.body.toString('base64');
    event.isBase64Encoded = !textual;
  }
  return event;
}

export interface HttpAnswer {
  statusCode: number;
  headers: Record<string, string | string[]>;
  body: Buffer;
}

const json = (statusCode: number, message: string): HttpAnswer => ({
  statusCode,
  headers: { 'content-type': 'application/json' },
  body: Buffer.from(JSON.stringify({ message })),
});

export const NOT_FOUND = json(404, 'Not Found');
export const INTERNAL_SERVER_ERROR = json(500, 'Internal Server Error');
export const SERVICE_UNAVAILABLE = json(503, 'Service Unavailable');
export const BAD_REQUEST = json(400, 'Bad Request');

/** The HTTP answer API Gateway makes of a function's result (payload format 2.0). */
export function httpAnswerOf(result: unknown): HttpAnswer {
  const response = result as { statusCode?: unknown; headers?: Record<string, unknown>; cookies?: unknown; body?: unknown; isBase64Encoded?: unknown } | null;
  if (response === null || typeof response !== 'object' || typeof response.statusCode !== 'number') {
    // The inferred format: any valid JSON becomes a 200 JSON body (a string stays the string).
    const body = typeof result === 'string' ? result : JSON.stringify(result ?? null);
    return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: Buffer.from(body) };
  }
  if (response.statusCode < 100 || response.statusCode > 599) return INTERNAL_SERVER_ERROR;
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(response.headers ?? {})) if (value !== undefined && value !== null) headers[name.toLowerCase()] = String(value);
  if (Array.isArray(response.cookies) && response.cookies.length) headers['set-cookie'] = response.cookies.map(String);
  const text = typeof response.body === 'string' ? response.body : response.body === undefined ? '' : JSON.stringify(response.body);
  const body = response.isBase64Encoded === true ? Buffer.from(text, 'base64') : Buffer.from(text, 'utf8');
  return { statusCode: response.statusCode, headers, body };
}
