import middy from '@middy/core';
import type { APIGatewayProxyEventV2, Context, SQSEvent } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { observabilityMiddleware } from '../../../shared/middleware/observability-middleware.js';
import { createMeshTelemetry, meshTelemetry, type MeshTelemetry } from '../../../shared/observability/mesh-telemetry.js';
import { captureOutput, type CapturedOutput, stubPowertoolsDefaults } from '../../fixtures/capture-output.js';

const context = {
  awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef',
  functionName: 'grant-entitlements',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:grant-entitlements',
  memoryLimitInMB: '256',
  getRemainingTimeInMillis: () => 3_000,
} as unknown as Context;

let output: CapturedOutput;
let telemetry: MeshTelemetry;

beforeEach(() => {
  stubPowertoolsDefaults();
  output = captureOutput();
  telemetry = createMeshTelemetry();
});
afterEach(() => {
  output.restore();
  vi.unstubAllEnvs();
});

/** A handler that logs one line and records one mesh call, as an instrumented client would. */
function handlerLoggingThrough(t: MeshTelemetry, outcome: 'return' | 'throw' = 'return') {
  return async (): Promise<string> => {
    t.logger.info('handling');
    t.metrics.recordCall('contact-service', 'GetUserInfo', 'OK', 10);
    if (outcome === 'throw') throw new Error('handler failed');
    return 'done';
  };
}

describe('observabilityMiddleware', () => {
  it.each([
    ['an API Gateway HTTP API request', { version: '2.0', requestContext: { requestId: 'JKJaXmPLvHcESHA=' } }, 'JKJaXmPLvHcESHA='],
    ['an API Gateway REST API request', { httpMethod: 'GET', requestContext: { requestId: 'rest-req-1' } }, 'rest-req-1'],
    ['an SQS record', { Records: [{ eventSource: 'aws:sqs', messageId: 'msg-1' }] }, 'msg-1'],
    ['an SQS batch', { Records: [{ eventSource: 'aws:sqs', messageId: 'msg-1' }, { eventSource: 'aws:sqs', messageId: 'msg-2' }] }, context.awsRequestId],
    ['an EventBridge event', { id: 'eb-1', 'detail-type': 'Scheduled Event', source: 'aws.events' }, 'eb-1'],
    ['a direct invoke', { userId: 'u-1' }, context.awsRequestId],
  ])('puts the correlation ID of %s and the Lambda context on every line', async (_kind, event, expected) => {
    const handler = middy(handlerLoggingThrough(telemetry)).use(observabilityMiddleware({ telemetry }));

    await handler(event, context);

    expect(output.logs()).toEqual([
      expect.objectContaining({
        message: 'handling',
        correlation_id: expected,
        function_name: 'grant-entitlements',
        function_request_id: context.awsRequestId,
      }),
    ]);
  });

  it('flushes the invocation metrics before the handler call resolves, leaving nothing pending', async () => {
    const handler = middy(handlerLoggingThrough(telemetry)).use(observabilityMiddleware({ telemetry }));
    const resourcesBefore = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

    const result = await handler({}, context);

    expect(result).toBe('done');
    expect(output.emf()).toEqual([expect.objectContaining({ service: 'contact-service', code: 'OK', grpc_client_requests_total: 1 })]);
    expect(process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length).toBe(resourcesBefore);
  });

  it('flushes the metrics when the handler throws, and rethrows its error', async () => {
    const handler = middy(handlerLoggingThrough(telemetry, 'throw')).use(observabilityMiddleware({ telemetry }));

    await expect(handler({}, context)).rejects.toThrow('handler failed');

    expect(output.emf()).toHaveLength(1);
  });

  it('does not carry a correlation ID over into the next invocation', async () => {
    const handler = middy(async () => {
      telemetry.logger.info('handling');
    }).use(observabilityMiddleware({ telemetry }));

    await handler({ Records: [{ eventSource: 'aws:sqs', messageId: 'msg-1' }] }, context);
    telemetry.logger.info('between invocations');

    expect(output.logs().map((line) => [line.message, line.correlation_id])).toEqual([
      ['handling', 'msg-1'],
      ['between invocations', undefined],
    ]);
  });

  it('flushes through Powertools cleanup when a later middleware answers early', async () => {
    const cache = {
      before: async (request: middy.Request) => {
        telemetry.metrics.recordCall('contact-service', 'GetUserInfo', 'OK', 1);
        // What Powertools' cleanupMiddlewares does for an early answer such as an idempotency hit.
        for (const cleanup of Object.values(request.internal as Record<string, unknown>)) {
          if (typeof cleanup === 'function') await (cleanup as (r: unknown) => unknown)(request);
        }
        return 'cached';
      },
    };
    const handler = middy(handlerLoggingThrough(telemetry)).use(observabilityMiddleware({ telemetry })).use(cache);

    expect(await handler({}, context)).toBe('cached');

    expect(output.emf()).toHaveLength(1);
  });

  it('uses the container telemetry, created once, when none is given', async () => {
    const handler = middy(handlerLoggingThrough(meshTelemetry())).use(observabilityMiddleware());

    await handler({}, context);
    await handler({}, context);

    expect(meshTelemetry()).toBe(meshTelemetry());
    expect(output.emf()).toHaveLength(2);
  });

  it('accepts typed handlers', async () => {
    const sqs = middy(async (_event: SQSEvent) => ({ batchItemFailures: [] })).use(observabilityMiddleware({ telemetry }));
    const http = middy(async (event: APIGatewayProxyEventV2) => ({ statusCode: 200, body: event.rawPath })).use(observabilityMiddleware({ telemetry }));

    await expect(sqs({ Records: [] }, context)).resolves.toEqual({ batchItemFailures: [] });
    await expect(http({ rawPath: '/x' } as APIGatewayProxyEventV2, context)).resolves.toEqual({ statusCode: 200, body: '/x' });
  });
});
