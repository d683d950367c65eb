/**
 * What Lambda hands a handler, for the benchmark's invocations: a context whose remaining time
 * counts down, and SQS batch events of entitlement commands.
 */
import { createHash } from 'node:crypto';
import type { Context, SQSEvent } from 'aws-lambda';
import type { EntitlementCommand, MemberEntitlementCommand } from '../../functions/payment-webhook/entitlement-command.js';
import { lambdaContextOf } from '../fixtures/lambda-context.js';

/** A Lambda context for request `requestId` with `remainingMs` left. */
export function invocationContext(requestId: string, remainingMs = 30_000): Context {
  return lambdaContextOf({ functionName: 'bench-function', awsRequestId: requestId, remainingMs });
}

let sequence = 0;

/** The SQS event of one record carrying `command`, as the event source mapping delivers it. */
export function sqsEventOf(command: EntitlementCommand): SQSEvent {
  return sqsBatchOf([command]);
}

/** The SQS event of a batch: one record per command, in order, as the event source mapping delivers it. */
export function sqsBatchOf(commands: readonly EntitlementCommand[]): SQSEvent {
  const now = String(Date.now());
  return {
    Records: commands.map((command) => {
      sequence++;
      const body = JSON.stringify(command);
      return {
        messageId: `bench-${sequence}`,
        receiptHandle: `rh-${sequence}`,
        body,
        attributes: { ApproximateReceiveCount: '1', SentTimestamp: now, SenderId: 'bench', ApproximateFirstReceiveTimestamp: now },
        messageAttributes: {},
        md5OfBody: createHash('md5').update(body).digest('hex'),
        eventSource: 'aws:sqs',
        eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:entitlement-commands',
        awsRegion: 'us-east-1',
      };
    }),
  };
}

/** A grant for `purchaserId`'s family, created at `eventCreated` (a fresh event id each time). */
export function grantCommand(purchaserId: string, entitlement: string, eventCreated: number): MemberEntitlementCommand & { action: 'grant' } {
  sequence++;
  return {
    action: 'grant',
    eventId: `evt_bench${sequence}${Math.random().toString(36).slice(2, 10)}`,
    eventType: 'checkout.session.completed',
    eventCreated,
    purchaserId,
    entitlement,
  };
}
