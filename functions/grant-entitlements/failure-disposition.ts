import { MeshCallError } from '../../shared/errors.js';
import { classifyFailure } from '../../shared/resilience/classify-failure.js';
import { PoisonedRecordError } from './grant-record.js';

/**
 * What a failed record should do next:
 * - `wait`: its service is unavailable (a transport failure, or a breaker that is open or
 *   ramping up): nothing about the record is wrong, so it waits with growing backoff instead of
 *   spending its receives in minutes;
 * - `poisoned`: it can never succeed: to the DLQ as fast as SQS allows;
 * - `retry`: anything else (a failed write, no time left): redelivered after the queue's
 *   visibility timeout, as before.
 */
export type FailureDisposition = 'wait' | 'poisoned' | 'retry';

/** Policy rejections that mean the service is down or recovering, not that the record is at fault. */
const SERVICE_UNAVAILABLE_REJECTIONS: ReadonlySet<string> = new Set(['MESH_BREAKER_OPEN', 'MESH_BULKHEAD_FULL']);

/** Decides what a record that failed with `error` does next (see {@link FailureDisposition}). */
export function dispositionOf(error: unknown): FailureDisposition {
  if (error instanceof PoisonedRecordError) return 'poisoned';
  if (!(error instanceof MeshCallError)) return 'retry';
  if (SERVICE_UNAVAILABLE_REJECTIONS.has(error.code)) return 'wait';
  if (error.code === 'MESH_NO_TIME_LEFT' || error.code === 'MESH_CANCELLED') return 'retry';
  return classifyFailure(error) === 'transport' ? 'wait' : 'retry';
}
