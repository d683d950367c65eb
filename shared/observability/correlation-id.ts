/** The one thing needed from the Lambda context: the invocation's own request ID. */
export interface InvocationContext {
  awsRequestId: string;
}

/**
 * Picks the correlation ID of an invocation from its triggering event:
 *
 * - API Gateway REST (v1) and HTTP (v2) APIs: `requestContext.requestId`, the ID API Gateway logs;
 * - SQS: the record's `messageId` when the batch holds one record. A batch of several has no single
 *   ID, so the invocation's `awsRequestId` stands for the batch and a handler that wants per-record
 *   lines logs them through a child logger carrying the record's `messageId`;
 * - EventBridge: the event's `id`;
 * - anything else (a direct invoke, a test): the invocation's `awsRequestId`.
 *
 * Plain property checks rather than Powertools' JMESPath search: that needs
 * `@aws-lambda-powertools/jmespath`, and no path expression can fall back to the Lambda context.
 */
export function correlationIdOf(event: unknown, context: InvocationContext): string {
  if (isRecord(event)) {
    const requestId = isRecord(event.requestContext) ? event.requestContext.requestId : undefined;
    if (typeof requestId === 'string' && requestId !== '') return requestId;

    const records = event.Records;
    if (Array.isArray(records) && records.length > 0 && records.every(isSqsRecord)) {
      return records.length === 1 ? (records[0] as SqsRecordLike).messageId : context.awsRequestId;
    }

    if (typeof event.id === 'string' && event.id !== '' && typeof event['detail-type'] === 'string' && typeof event.source === 'string') {
      return event.id;
    }
  }
  return context.awsRequestId;
}

interface SqsRecordLike {
  eventSource: 'aws:sqs';
  messageId: string;
}

function isSqsRecord(record: unknown): record is SqsRecordLike {
  return isRecord(record) && record.eventSource === 'aws:sqs' && typeof record.messageId === 'string';
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}
