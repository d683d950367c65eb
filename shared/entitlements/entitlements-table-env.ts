import { ConfigError } from '../errors.js';

/**
 * The entitlements table's name from `ENTITLEMENTS_TABLE`.
 *
 * @throws {ConfigError} `CONFIG_INVALID` naming the key when it is unset or empty.
 */
export function entitlementsTableFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  const name = env['ENTITLEMENTS_TABLE']?.trim();
  if (!name) throw new ConfigError('CONFIG_INVALID', 'ENTITLEMENTS_TABLE must name the entitlements DynamoDB table, got ""');
  return name;
}

/**
 * The store's write concurrency from `ENTITLEMENTS_WRITE_CONCURRENCY` (see
 * `EntitlementStoreOptions.concurrency`); undefined when unset or empty, so the store's default
 * applies.
 *
 * @throws {ConfigError} `CONFIG_INVALID` naming the key and the value when it is not a positive
 *   integer in decimal digits.
 */
export function entitlementsWriteConcurrencyFromEnv(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const raw = env['ENTITLEMENTS_WRITE_CONCURRENCY'];
  const value = raw?.trim();
  if (!value) return undefined;
  // Digits only: Number() would also take "1e2", "0x10" and " 5 "-like surprises.
  const concurrency = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(concurrency) || concurrency < 1) {
    throw new ConfigError('CONFIG_INVALID', `ENTITLEMENTS_WRITE_CONCURRENCY must be a positive integer, got ${JSON.stringify(raw)}`);
  }
  return concurrency;
}
