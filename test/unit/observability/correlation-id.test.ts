import { describe, expect, it } from 'vitest';
import { correlationIdOf } from '../../../shared/observability/correlation-id.js';

const context = { awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef' };
const sqsRecord = (messageId: string) => ({ messageId, eventSource: 'aws:sqs', body: '{}', receiptHandle: 'r' });

describe('correlationIdOf', () => {
  it.each([
    ['an API Gateway REST (v1) request', { resource: '/users/{id}', httpMethod: 'GET', requestContext: { requestId: 'rest-req-1', stage: 'prod' } }, 'rest-req-1'],
    ['an API Gateway HTTP (v2) request', { version: '2.0', routeKey: 'POST /webhooks/payments', requestContext: { requestId: 'JKJaXmPLvHcESHA=', http: { method: 'POST' } } }, 'JKJaXmPLvHcESHA='],
    ['an SQS batch of one record', { Records: [sqsRecord('059f36b4-87a3-44ab-83d2-661975830a7d')] }, '059f36b4-87a3-44ab-83d2-661975830a7d'],
    ['an SQS batch of several records', { Records: [sqsRecord('m-1'), sqsRecord('m-2')] }, context.awsRequestId],
    ['an EventBridge event', { version: '0', id: '53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa', 'detail-type': 'Scheduled Event', source: 'aws.events', detail: {} }, '53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa'],
    ['a direct invoke', { userId: 'u-1' }, context.awsRequestId],
    ['a direct invoke with an id that is not an EventBridge event', { id: 'u-1' }, context.awsRequestId],
    ['records from another source', { Records: [{ eventSource: 'aws:dynamodb', eventID: 'e-1' }] }, context.awsRequestId],
    ['no event at all', undefined, context.awsRequestId],
  ])('takes the correlation ID of %s', (_kind, event, expected) => {
    expect(correlationIdOf(event, context)).toBe(expected);
  });
});
