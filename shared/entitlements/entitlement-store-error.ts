import { MeshError } from '../errors.js';

/**
 * Why the entitlements store refused or failed:
 * - `ENTITLEMENT_INVALID_CHANGE`: a change (or a member id) that can never be applied; retrying
 *   cannot help, so the record belongs in the DLQ;
 * - `ENTITLEMENT_INVALID_USER_ID`: an empty user id passed to `list`;
 * - `ENTITLEMENT_INVALID_OPTIONS`: a store constructed with an empty table name or a bad concurrency;
 * - `ENTITLEMENT_WRITE_FAILED` / `ENTITLEMENT_READ_FAILED`: DynamoDB failed (throttling, network,
 *   missing table…) for one user; the cause is the SDK's error;
 * - `ENTITLEMENT_MEMBERS_FAILED`: some members of a family were not written; `userIds` lists them,
 *   the cause is the first member's error, and retrying the whole change is safe.
 */
export type EntitlementStoreErrorCode =
  | 'ENTITLEMENT_INVALID_CHANGE'
  | 'ENTITLEMENT_INVALID_USER_ID'
  | 'ENTITLEMENT_INVALID_OPTIONS'
  | 'ENTITLEMENT_WRITE_FAILED'
  | 'ENTITLEMENT_READ_FAILED'
  | 'ENTITLEMENT_MEMBERS_FAILED';

export interface EntitlementStoreErrorDetails {
  /** The table the operation addressed, when it got that far. */
  tableName?: string;
  /** The users the error concerns: the one written or read, or every member that failed. */
  userIds?: readonly string[];
}

/** An entitlements-store error; callers branch on `code`. */
export class EntitlementStoreError extends MeshError<EntitlementStoreErrorCode> {
  readonly tableName: string | undefined;
  readonly userIds: readonly string[];

  constructor(
    code: EntitlementStoreErrorCode,
    message: string,
    details: EntitlementStoreErrorDetails = {},
    options?: ErrorOptions,
  ) {
    super(code, message, options);
    this.tableName = details.tableName;
    this.userIds = details.userIds ?? [];
  }
}

/** True when `error` is an `EntitlementStoreError`, optionally with `code`. */
export function isEntitlementStoreError(
  error: unknown,
  code?: EntitlementStoreErrorCode,
): error is EntitlementStoreError {
  return error instanceof EntitlementStoreError && (code === undefined || error.code === code);
}

/**
 * A DynamoDB failure for one user, worded `<what> in table "<table>": <cause name>: <message>`,
 * keeping `cause`.
 */
export function userFailure(
  code: 'ENTITLEMENT_WRITE_FAILED' | 'ENTITLEMENT_READ_FAILED',
  what: string,
  target: { tableName: string; userId: string },
  cause?: unknown,
): EntitlementStoreError {
  const reason = cause === undefined ? '' : `: ${describeError(cause)}`;
  return new EntitlementStoreError(
    code,
    `${what} in table ${JSON.stringify(target.tableName)}${reason}`,
    { tableName: target.tableName, userIds: [target.userId] },
    cause === undefined ? undefined : { cause },
  );
}

/** An error as a message fragment: its name (the SDK's exception name) and message. */
export function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
