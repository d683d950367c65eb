import { MeshError } from '../errors.js';
import type { DiscoverySourceName } from './discovery-source.js';

/**
 * Why a service could not be discovered. A source's own failure carries one of the source codes;
 * the lookup as a whole fails with `DISCOVERY_FAILED` (every source failed and there never was a
 * good result), listing each source's failure in {@link DiscoveryError.failures}.
 */
export type DiscoveryErrorCode =
  | 'DISCOVERY_FAILED'
  | 'DISCOVERY_UNKNOWN_SERVICE'
  | 'DISCOVERY_NOT_CONFIGURED'
  | 'DISCOVERY_NO_INSTANCES'
  | 'DISCOVERY_THROTTLED'
  | 'DISCOVERY_TIMEOUT'
  | 'DISCOVERY_SOURCE_FAILED'
  | 'DISCOVERY_ABORTED'
  | 'DISCOVERY_BAD_ADDRESS';

/** One source's failure during one lookup, as reported in logs and in `DISCOVERY_FAILED`. */
export interface SourceFailure {
  source: DiscoverySourceName;
  code: DiscoveryErrorCode;
  message: string;
}

export class DiscoveryError extends MeshError<DiscoveryErrorCode> {
  /** The mesh service name being discovered, e.g. `contact-service`. */
  readonly service: string;
  /** Each source's failure, in the order tried; empty unless the code is `DISCOVERY_FAILED`. */
  readonly failures: readonly SourceFailure[];

  constructor(
    code: DiscoveryErrorCode,
    message: string,
    details: { service: string; failures?: readonly SourceFailure[] },
    options?: ErrorOptions,
  ) {
    super(code, message, options);
    this.service = details.service;
    this.failures = details.failures ?? [];
  }
}

/** True when `error` is a {@link DiscoveryError}, and carries `code` when one is given. */
export function isDiscoveryError(error: unknown, code?: DiscoveryErrorCode): error is DiscoveryError {
  return error instanceof DiscoveryError && (code === undefined || error.code === code);
}
