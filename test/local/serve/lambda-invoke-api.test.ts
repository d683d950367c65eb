import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FunctionPool } from './function-pool.js';
import { InvocationHistory } from './invocation-history.js';
import { functionNameOf, serveInvokeRequest } from './lambda-invoke-api.js';

const COUNTER = new URL('../../fixtures/handlers/counter-handler.ts', import.meta.url).href;

let server: Server;
let pool: FunctionPool;
let history: InvocationHistory;
let lambda: LambdaClient;
let endpoint: string;
const reported: string[] = [];

beforeAll(async () => {
  history = new InvocationHistory();
  pool = new FunctionPool({ name: 'counter', modulePath: COUNTER, timeoutSeconds: 1, memoryMb: 128, env: { ...process.env }, region: 'us-east-1' }, history);
  const pools = new Map([['counter', pool]]);
  server = createServer((request, response) => void serveInvokeRequest(request, response, { pools, region: 'us-east-1', accountId: '000000000000', report: (line) => reported.push(line) }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  lambda = new LambdaClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 1 });
});

afterAll(async () => {
  lambda.destroy();
  await pool.close();
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
});

const payloadOf = (bytes: Uint8Array | undefined) => JSON.parse(Buffer.from(bytes ?? []).toString('utf8')) as Record<string, unknown>;

describe('the local Lambda Invoke API, driven by the SDK\'s LambdaClient', () => {
  it('answers RequestResponse with the function\'s result and the version it ran', async () => {
    const answer = await lambda.send(new InvokeCommand({ FunctionName: 'counter', Payload: JSON.stringify({ echo: 'hello' }) }));

    expect(answer.StatusCode).toBe(200);
    expect(answer.FunctionError).toBeUndefined();
    expect(answer.ExecutedVersion).toBe('$LATEST');
    expect(payloadOf(answer.Payload)).toMatchObject({ echo: 'hello' });
  });

  it('finds the function by its ARN too', async () => {
    const answer = await lambda.send(new InvokeCommand({ FunctionName: 'arn:aws:lambda:us-east-1:000000000000:function:counter' }));

    expect(answer.StatusCode).toBe(200);
    expect(functionNameOf('arn:aws:lambda:us-east-1:000000000000:function:counter:$LATEST')).toBe('counter');
  });

  it('reports a thrown error as Lambda does: 200, FunctionError Unhandled, the runtime\'s error payload', async () => {
    const answer = await lambda.send(new InvokeCommand({ FunctionName: 'counter', Payload: JSON.stringify({ fail: true }) }));

    expect(answer.StatusCode).toBe(200);
    expect(answer.FunctionError).toBe('Unhandled');
    const payload = payloadOf(answer.Payload);
    expect(payload).toMatchObject({ errorType: 'CounterError', errorMessage: expect.stringMatching(/^asked to fail on invocation \d+$/) });
    expect(payload.trace).toEqual(expect.arrayContaining([expect.stringMatching(/^CounterError: asked to fail/)]));
  });

  it('reports a timeout as Sandbox.Timedout', async () => {
    const answer = await lambda.send(new InvokeCommand({ FunctionName: 'counter', Payload: JSON.stringify({ sleepMs: 3000 }) }));

    expect(answer.FunctionError).toBe('Unhandled');
    expect(payloadOf(answer.Payload)).toEqual({ errorType: 'Sandbox.Timedout', errorMessage: expect.stringMatching(/Task timed out after 1\.\d\d seconds$/) });
  });

  it('returns the tail of the invocation\'s log when asked (LogType Tail)', async () => {
    const answer = await lambda.send(new InvokeCommand({ FunctionName: 'counter', LogType: 'Tail' }));

    expect(Buffer.from(answer.LogResult!, 'base64').toString('utf8')).toMatch(/"message":"counted"/);
  });

  it('accepts an Event invocation with 202 and runs it after answering', async () => {
    const before = history.recent().length;

    const answer = await lambda.send(new InvokeCommand({ FunctionName: 'counter', InvocationType: 'Event', Payload: JSON.stringify({ echo: 'later' }) }));
    await expect.poll(() => history.recent().find((r) => r.trigger === 'invoke-event')?.state, { timeout: 5000 }).toBe('succeeded');

    expect(answer.StatusCode).toBe(202);
    expect(answer.Payload?.length ?? 0).toBe(0);
    expect(history.recent().length).toBe(before + 1);
  });

  it('answers an unknown function with ResourceNotFoundException, naming its ARN', async () => {
    const invoking = lambda.send(new InvokeCommand({ FunctionName: 'charge-card' }));

    await expect(invoking).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
      message: 'Function not found: arn:aws:lambda:us-east-1:000000000000:function:charge-card',
      $metadata: { httpStatusCode: 404 },
    });
    expect(reported.at(-1)).toMatch(/function not found: charge-card/);
  });

  it('answers a payload that is not JSON with InvalidRequestContentException, and keeps serving', async () => {
    const invoking = lambda.send(new InvokeCommand({ FunctionName: 'counter', Payload: Buffer.from('{not json') }));

    await expect(invoking).rejects.toMatchObject({ name: 'InvalidRequestContentException', $metadata: { httpStatusCode: 400 } });
    await expect(lambda.send(new InvokeCommand({ FunctionName: 'counter' }))).resolves.toMatchObject({ StatusCode: 200 });
  });
});

describe('the local event source mapping API, driven by LambdaClient', () => {
  it('lists the mapping by function, and pauses and resumes it with UpdateEventSourceMapping', async () => {
    // Prepare: a mapping server of its own, over a stand-in mapping.
    const { ListEventSourceMappingsCommand, UpdateEventSourceMappingCommand, GetEventSourceMappingCommand } = await import('@aws-sdk/client-lambda');
    const mapping = { enabled: true, options: { batchSize: 10, maxBatchingWindowSeconds: 1 } } as never as import('./event-source-mapping.js').EventSourceMapping;
    const mappings = [{ mapping, functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:grant-entitlements', eventSourceArn: 'arn:aws:sqs:us-east-1:000000000000:entitlements' }];
    const own = createServer((request, response) => void serveInvokeRequest(request, response, { pools: new Map(), region: 'us-east-1', accountId: '000000000000', mappings, report: (line) => reported.push(line) }));
    await new Promise<void>((resolve) => own.listen(0, '127.0.0.1', resolve));
    const client = new LambdaClient({ endpoint: `http://127.0.0.1:${(own.address() as AddressInfo).port}`, region: 'us-east-1', credentials: { accessKeyId: 'l', secretAccessKey: 'l' } });
    try {
      // Act
      const { EventSourceMappings = [] } = await client.send(new ListEventSourceMappingsCommand({ FunctionName: 'grant-entitlements' }));
      const uuid = EventSourceMappings[0]!.UUID!;
      const paused = await client.send(new UpdateEventSourceMappingCommand({ UUID: uuid, Enabled: false }));
      const whilePaused = await client.send(new GetEventSourceMappingCommand({ UUID: uuid }));
      await client.send(new UpdateEventSourceMappingCommand({ UUID: uuid, Enabled: true }));

      // Assess
      expect(EventSourceMappings).toHaveLength(1);
      expect(EventSourceMappings[0]).toMatchObject({ State: 'Enabled', BatchSize: 10, FunctionResponseTypes: ['ReportBatchItemFailures'], EventSourceArn: 'arn:aws:sqs:us-east-1:000000000000:entitlements' });
      expect(paused.State).toBe('Disabling');
      expect(whilePaused.State).toBe('Disabled');
      expect(mapping.enabled).toBe(true);
      await expect(client.send(new GetEventSourceMappingCommand({ UUID: '00000000-0000-4000-a000-000000000000' }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    } finally {
      client.destroy();
      await new Promise<void>((resolve) => {
        own.close(() => resolve());
        own.closeAllConnections();
      });
    }
  });
});
