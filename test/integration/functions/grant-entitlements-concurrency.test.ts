import { once } from 'node:events';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { captureOutput } from '../../fixtures/capture-output.js';
import { command, sqsEvent, sqsRecord, startFunctionEnvironment, type FunctionEnvironment } from '../../fixtures/function-environment.js';
import { lambdaContext } from '../../fixtures/mesh-environment.js';

type Handler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

/** A proxy in front of `target` that counts the `UpdateItem`s it forwards and the most at once. */
async function countingProxy(target: string) {
  const counts = { updates: 0, inFlight: 0, maxInFlight: 0 };
  const upstream = new URL(target);
  const server: Server = createServer((req, res) => {
    const isUpdate = req.headers['x-amz-target'] === 'DynamoDB_20120810.UpdateItem';
    if (isUpdate) {
      counts.updates++;
      counts.maxInFlight = Math.max(counts.maxInFlight, ++counts.inFlight);
      res.once('close', () => counts.inFlight--);
    }
    const forward = request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    req.pipe(forward);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    counts,
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

describe('grant-entitlements with ENTITLEMENTS_WRITE_CONCURRENCY', () => {
  let env: FunctionEnvironment;
  let proxy: Awaited<ReturnType<typeof countingProxy>>;
  let handler: Handler;

  beforeAll(async () => {
    env = await startFunctionEnvironment({ ENTITLEMENTS_WRITE_CONCURRENCY: '7' });
    proxy = await countingProxy(env.dynamo.endpoint);
    process.env.AWS_ENDPOINT_URL_DYNAMODB = proxy.endpoint;
    vi.resetModules();
    ({ handler } = (await import('../../../functions/grant-entitlements/handler.js')) as unknown as { handler: Handler });
  });
  afterAll(async () => {
    proxy.close();
    await env.close();
  });

  it('keeps the writes of every record of a batch within the one limit', async () => {
    // Prepare: three events for the 50-member family in one batch, 150 writes.
    const records = ['a', 'b', 'c'].map((suffix) => sqsRecord(command({ purchaserId: 'user-50', entitlement: `shared_limit_${suffix}` })));
    const output = captureOutput();

    // Act
    const result = await handler(sqsEvent(...records), lambdaContext() as unknown as Context).finally(() => output.restore());

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    expect(proxy.counts.updates).toBe(150);
    expect(proxy.counts.maxInFlight).toBe(7);
  });
});

describe('grant-entitlements with a bad ENTITLEMENTS_WRITE_CONCURRENCY', () => {
  let env: FunctionEnvironment;

  beforeAll(async () => {
    env = await startFunctionEnvironment({ ENTITLEMENTS_WRITE_CONCURRENCY: 'ten' });
  });
  afterAll(async () => {
    await env.close();
  });

  it('fails the cold start naming the key and the value', async () => {
    // Prepare
    vi.resetModules();

    // Act
    const loading = import('../../../functions/grant-entitlements/handler.js');

    // Assess
    await expect(loading).rejects.toMatchObject({
      name: 'ConfigError',
      code: 'CONFIG_INVALID',
      message: 'ENTITLEMENTS_WRITE_CONCURRENCY must be a positive integer, got "ten"',
    });
  });
});
