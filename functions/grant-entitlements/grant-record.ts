import type { SQSRecord } from 'aws-lambda';
import { MeshCallError, MeshError } from '../../shared/errors.js';
import { EntitlementCommand } from '../payment-webhook/entitlement-command.js';
import { grantEntitlements, type GrantDeps, type GrantResult } from './grant-entitlements.js';

export type PoisonedRecordCode = 'GRANT_RECORD_NOT_JSON' | 'GRANT_RECORD_INVALID' | 'GRANT_PURCHASER_UNKNOWN';

/**
 * A record that can never succeed, however often SQS delivers it. It still fails its batch item,
 * so SQS redelivers it until `maxReceiveCount` moves it to the DLQ: nothing is dropped, and the
 * DLQ alarm tells a human. Its `code` and message say why, without echoing the payload.
 */
export class PoisonedRecordError extends MeshError<PoisonedRecordCode> {
  readonly messageId: string;

  constructor(code: PoisonedRecordCode, message: string, messageId: string, options?: ErrorOptions) {
    super(code, message, options);
    this.messageId = messageId;
  }
}

/**
 * Parses one SQS record into the webhook's entitlement command.
 *
 * @throws {PoisonedRecordError} for a body that is not JSON or not a valid command (naming the fields).
 */
export function commandOfRecord(record: Pick<SQSRecord, 'messageId' | 'body'>): EntitlementCommand {
  let json: unknown;
  try {
    json = JSON.parse(record.body);
  } catch {
    throw new PoisonedRecordError('GRANT_RECORD_NOT_JSON', `record ${record.messageId} body is not JSON`, record.messageId);
  }
  const parsed = EntitlementCommand.safeParse(json);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((i) => `${i.path.join('.') || '(body)'} ${i.message}`).join('; ');
    throw new PoisonedRecordError('GRANT_RECORD_INVALID', `record ${record.messageId} is not an entitlement command: ${fields}`, record.messageId);
  }
  return parsed.data;
}

/**
 * Handles one SQS record: parse, then grant to the family. An unknown purchaser is poisoned (the
 * contact-service answered NOT_FOUND); mesh outages, failed writes and a purchaser not resolved
 * yet are retryable failures.
 *
 * @throws {PoisonedRecordError} for records that can never succeed.
 * @throws {PurchaserUnresolvedError | MeshCallError | EntitlementStoreError} for failures worth a redelivery.
 */
export async function grantRecord(
  record: Pick<SQSRecord, 'messageId' | 'body'>,
  deps: GrantDeps,
): Promise<GrantResult> {
  const command = commandOfRecord(record);
  try {
    return await grantEntitlements(command, deps);
  } catch (error) {
    if (error instanceof MeshCallError && error.code === 'MESH_NOT_FOUND' && error.method === 'GetUserInfo') {
      throw new PoisonedRecordError(
        'GRANT_PURCHASER_UNKNOWN',
        `record ${record.messageId}: purchaser ${command.purchaserId === undefined ? '(resolved through a stripe link)' : JSON.stringify(command.purchaserId)} of event ${command.eventId} is unknown to the contact-service`,
        record.messageId,
        { cause: error },
      );
    }
    throw error;
  }
}
