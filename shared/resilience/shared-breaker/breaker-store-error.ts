import { MeshError } from '../../errors.js';

/** The `mesh-state` table could not be read or written: the breaker falls back to its local state. */
export type BreakerStoreErrorCode = 'BREAKER_STORE_FAILED' | 'BREAKER_STORE_MALFORMED';

export class BreakerStoreError extends MeshError<BreakerStoreErrorCode> {
  readonly service: string;
  readonly operation: string;

  constructor(code: BreakerStoreErrorCode, message: string, details: { service: string; operation: string }, options?: ErrorOptions) {
    super(code, message, options);
    this.service = details.service;
    this.operation = details.operation;
  }
}
