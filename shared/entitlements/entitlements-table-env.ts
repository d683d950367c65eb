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
