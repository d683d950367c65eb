import type { SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';

/**
 * The queue URL of an SQS queue ARN (`arn:<partition>:sqs:<region>:<account>:<name>`): SQS's own
 * (`https://sqs.<region>.amazonaws.com/<account>/<name>`), or `<endpoint>/<account>/<name>` under
 * `AWS_ENDPOINT_URL_SQS` / `AWS_ENDPOINT_URL`, the shape local emulators use.
 *
 * @throws {TypeError} when `arn` is not an SQS queue ARN.
 */
export function queueUrlOfArn(arn: string, env: NodeJS.ProcessEnv = process.env): string {
  const parts = arn.split(':');
  const [prefix, partition, service, region, account, name] = parts;
  if (parts.length !== 6 || prefix !== 'arn' || service !== 'sqs' || !region || !/^\d{12}$/.test(account ?? '') || !name) {
    throw new TypeError(`an event source arn must be arn:<partition>:sqs:<region>:<account>:<queue>, got ${JSON.stringify(arn)}`);
  }
  const endpoint = (env.AWS_ENDPOINT_URL_SQS ?? env.AWS_ENDPOINT_URL)?.trim().replace(/\/+$/, '');
  if (endpoint) return `${endpoint}/${account}/${name}`;
  const domain = partition === 'aws-cn' ? 'amazonaws.com.cn' : 'amazonaws.com';
  return `https://sqs.${region}.${domain}/${account}/${name}`;
}

/** Changes when SQS delivers a received record again. */
export type SetVisibility = (record: Pick<SQSRecord, 'eventSourceARN' | 'receiptHandle'>, seconds: number) => Promise<void>;

/**
 * Returns the function that sets a received record's visibility timeout (ChangeMessageVisibility
 * on the queue its `eventSourceARN` names). The SDK is imported and the client created on first
 * use (most invocations never change a visibility), and the client honours the
 * SDK's standard settings (`AWS_ENDPOINT_URL_SQS`, …), so aws-sdk-client-mock or an emulator can
 * stand in.
 *
 * The returned function throws the SDK's error.
 */
export function sqsRecordVisibility(client?: SQSClient, env: NodeJS.ProcessEnv = process.env): SetVisibility {
  let sqs = client;
  return async function setRecordVisibility(record, seconds) {
    const { ChangeMessageVisibilityCommand, SQSClient } = await import('@aws-sdk/client-sqs');
    sqs ??= new SQSClient({});
    await sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: queueUrlOfArn(record.eventSourceARN, env),
        ReceiptHandle: record.receiptHandle,
        VisibilityTimeout: seconds,
      }),
    );
  };
}
