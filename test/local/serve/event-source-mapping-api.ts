/**
 * The part of Lambda's API that manages event source mappings (`GET /2015-03-31/event-source-mappings`,
 * `GET|PUT /2015-03-31/event-source-mappings/{UUID}`), over the local mapping, so a function that
 * pauses or resumes consumption with `UpdateEventSourceMapping` (`Enabled`) does so locally too:
 * serve points the functions' Lambda client here (`AWS_ENDPOINT_URL_LAMBDA`, unless set).
 * Creating and deleting mappings is not emulated: the stack defines the one mapping.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EventSourceMapping } from './event-source-mapping.js';

export const EVENT_SOURCE_MAPPINGS_PATH = '/2015-03-31/event-source-mappings';

export interface MappingEntry {
  mapping: EventSourceMapping;
  functionArn: string;
  eventSourceArn: string;
}

/** A stable UUID for a mapping, from its queue and function (Lambda's are random; any UUID does). */
export function mappingUuid(eventSourceArn: string, functionArn: string): string {
  const hex = createHash('sha256').update(`${eventSourceArn} ${functionArn}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

let lastModified = Date.now() / 1000;

/** The mapping as Lambda's API describes it (`EventSourceMappingConfiguration`). */
function configurationOf(entry: MappingEntry, state?: string) {
  const { options, enabled } = entry.mapping;
  return {
    UUID: mappingUuid(entry.eventSourceArn, entry.functionArn),
    BatchSize: options.batchSize,
    MaximumBatchingWindowInSeconds: options.maxBatchingWindowSeconds,
    EventSourceArn: entry.eventSourceArn,
    FunctionArn: entry.functionArn,
    FunctionResponseTypes: ['ReportBatchItemFailures'],
    LastModified: lastModified,
    State: state ?? (enabled ? 'Enabled' : 'Disabled'),
    StateTransitionReason: 'USER_INITIATED',
  };
}

function reply(response: ServerResponse, status: number, body: unknown, errorType?: string): void {
  response.writeHead(status, { 'content-type': 'application/json', ...(errorType ? { 'x-amzn-errortype': errorType } : {}) }).end(JSON.stringify(body));
}

/** Answers List, Get and Update; anything else on this path is `UnsupportedOperation` locally. */
export function serveEventSourceMappingRequest(request: IncomingMessage, response: ServerResponse, body: Buffer, entries: readonly MappingEntry[], report: (line: string) => void): void {
  const url = new URL(request.url ?? '/', 'http://localhost');
  const uuid = url.pathname.slice(EVENT_SOURCE_MAPPINGS_PATH.length).replace(/^\//, '').replace(/\/$/, '');
  const find = () => entries.find((e) => mappingUuid(e.eventSourceArn, e.functionArn) === uuid);
  if (request.method === 'GET' && uuid === '') {
    const fn = url.searchParams.get('FunctionName');
    const source = url.searchParams.get('EventSourceArn');
    const matching = entries.filter((e) => (!fn || e.functionArn === fn || e.functionArn.endsWith(`:function:${fn}`)) && (!source || e.eventSourceArn === source));
    reply(response, 200, { EventSourceMappings: matching.map((e) => configurationOf(e)) });
    return;
  }
  const entry = find();
  if (!entry && uuid !== '') {
    reply(response, 404, { Type: 'User', message: `The resource you requested does not exist. (Service: Lambda, Status Code: 404) UUID ${uuid}` }, 'ResourceNotFoundException');
    return;
  }
  if (request.method === 'GET' && entry) {
    reply(response, 200, configurationOf(entry));
    return;
  }
  if (request.method === 'PUT' && entry) {
    let update: { Enabled?: unknown; BatchSize?: unknown; MaximumBatchingWindowInSeconds?: unknown };
    try {
      update = body.length ? (JSON.parse(body.toString('utf8')) as typeof update) : {};
    } catch {
      reply(response, 400, { Type: 'User', message: 'Could not parse request body into json' }, 'InvalidRequestContentException');
      return;
    }
    let state: string | undefined;
    if (typeof update.Enabled === 'boolean' && update.Enabled !== entry.mapping.enabled) {
      entry.mapping.enabled = update.Enabled;
      state = update.Enabled ? 'Enabling' : 'Disabling';
      report(`event source mapping ${uuid}: ${update.Enabled ? 'enabled' : 'disabled'} by UpdateEventSourceMapping`);
    }
    if (typeof update.BatchSize === 'number') entry.mapping.options.batchSize = update.BatchSize;
    if (typeof update.MaximumBatchingWindowInSeconds === 'number') entry.mapping.options.maxBatchingWindowSeconds = update.MaximumBatchingWindowInSeconds;
    lastModified = Date.now() / 1000;
    reply(response, 202, configurationOf(entry, state));
    return;
  }
  reply(response, 400, { Type: 'User', message: `${request.method} ${url.pathname} is not emulated locally: the stack defines the one event source mapping` }, 'InvalidParameterValueException');
}
