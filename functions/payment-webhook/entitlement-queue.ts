import type { SQSClient } from '@aws-sdk/client-sqs';
import { EntitlementCommand } from './entitlement-command.js';
import { WebhookError } from './webhook-error.js';

/** Sends one entitlement command; resolves once SQS has durably accepted it. */
export type EnqueueEntitlementCommand = (command: EntitlementCommand) => Promise<void>;

/**
 * Returns the function that sends entitlement commands to the SQS queue at `queueUrl`: the body is
 * the {@link EntitlementCommand} JSON, with string attributes `eventType` and `eventId`. On a FIFO
 * queue (`.fifo`), the event id is the deduplication id and the purchaser (or, when the event does not
 * name one, its most specific Stripe object) the message group. The
 * SDK is imported and its client created on first use (not at a cold start's init), and the
 * client honours `AWS_ENDPOINT_URL_SQS`.
 *
 * The returned function throws {@link WebhookError} `WEBHOOK_QUEUE_FAILED` naming the SDK error.
 */
export function sqsEntitlementQueue(queueUrl: string, client?: SQSClient): EnqueueEntitlementCommand {
  let sqs = client;
  const fifo = queueUrl.endsWith('.fifo');
  return async function sendEntitlementCommand(command) {
    // Parsed, not just typed: what leaves here is exactly what grant-entitlements will accept.
    const body = EntitlementCommand.parse(command);
    try {
      const { SendMessageCommand, SQSClient } = await import('@aws-sdk/client-sqs');
      sqs ??= new SQSClient({});
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: queueUrl,
          MessageBody: JSON.stringify(body),
          MessageAttributes: {
            eventType: { DataType: 'String', StringValue: body.eventType },
            eventId: { DataType: 'String', StringValue: body.eventId },
          },
          ...(fifo ? { MessageDeduplicationId: body.eventId, MessageGroupId: messageGroupOf(body) } : {}),
        }),
      );
    } catch (error) {
      const name = (error as Error).name;
      throw new WebhookError('WEBHOOK_QUEUE_FAILED', `cannot queue event ${body.eventId}: ${name}`, { cause: error });
    }
  };
}

/** A FIFO message group: the purchaser, else the Stripe object the event belongs to, else the event. */
function messageGroupOf(command: EntitlementCommand): string {
  return command.purchaserId ?? command.stripeRefs?.[0] ?? command.eventId;
}
