import type { SQSRecord } from 'aws-lambda';
import type { MeshLogger } from '../../shared/observability/mesh-logger.js';
import { dispositionOf, type FailureDisposition } from './failure-disposition.js';
import { backoffSeconds, type QueueBackoffOptions } from './queue-backoff.js';
import type { SetVisibility } from './record-visibility.js';

/** What handling a failed record needs. */
export interface RecordFailureDeps {
  backoff: QueueBackoffOptions;
  setVisibility: SetVisibility;
  logger: Pick<MeshLogger, 'warn' | 'error'>;
  random?: () => number;
}

/** What was decided for a failed record. */
export interface RecordFailureOutcome {
  disposition: FailureDisposition;
  receiveCount: number;
  /** The visibility timeout set, when one was (backoff on). */
  visibilitySeconds?: number;
}

/**
 * Logs a failed record and decides when SQS delivers it again; the caller still reports it in
 * `batchItemFailures`, so nothing is deleted. With backoff on, a record whose service is
 * unavailable waits `backoffSeconds(ApproximateReceiveCount)` and a poisoned one becomes visible
 * at once, reaching the DLQ in seconds rather than after `maxReceiveCount` visibility timeouts;
 * other failures keep the queue's visibility timeout. A failed ChangeMessageVisibility is logged
 * and leaves the queue's timeout in place: the record is retried either way.
 */
export async function handleRecordFailure(record: SQSRecord, error: unknown, deps: RecordFailureDeps): Promise<RecordFailureOutcome> {
  const receiveCount = Number(record.attributes?.ApproximateReceiveCount ?? 1) || 1;
  const disposition = dispositionOf(error);
  const visibilitySeconds = !deps.backoff.enabled
    ? undefined
    : disposition === 'wait'
      ? backoffSeconds(receiveCount, deps.backoff, deps.random)
      : disposition === 'poisoned'
        ? 0
        : undefined;
  const details = { messageId: record.messageId, receiveCount, disposition, visibilitySeconds, error };
  // Stable messages (log queries filter on them); `disposition` and `visibilitySeconds` say when.
  if (disposition === 'poisoned') deps.logger.error('poisoned record: it will reach the DLQ', details);
  else deps.logger.warn('record failed: SQS will redeliver it', details);
  if (visibilitySeconds === undefined) return { disposition, receiveCount };
  try {
    await deps.setVisibility(record, visibilitySeconds);
  } catch (visibilityError) {
    deps.logger.warn('cannot change the record\'s visibility: SQS will redeliver it after the queue\'s visibility timeout', {
      messageId: record.messageId,
      error: visibilityError,
    });
    return { disposition, receiveCount };
  }
  return { disposition, receiveCount, visibilitySeconds };
}
