// A namespace import lets esbuild keep only the zod in use; `import { z }` bundles every locale (~370 KB).
import * as z from 'zod';
import { ConfigError } from '../errors.js';
import { SECRETS_MANAGER_ACCESS_DEFAULTS, type SecretsManagerAccess } from '../secrets/secrets-manager-access.js';
import { extensionCacheTtlField, portField, secretsManagerAccessField } from './fields.js';

/**
 * The variables that choose how secrets are read, in both configurations that read secrets (the
 * mesh's and the payment webhook's). The extension reads the last two itself; the function reads
 * them to reach it and to know how stale its cached answers can be.
 */
export const secretsManagerAccessShape = {
  SECRETS_MANAGER_ACCESS: secretsManagerAccessField.optional(),
  PARAMETERS_SECRETS_EXTENSION_HTTP_PORT: portField.optional(),
  SECRETS_MANAGER_TTL: extensionCacheTtlField.optional(),
};
const secretsManagerAccessSchema = z.object(secretsManagerAccessShape);
type SecretsManagerAccessValues = z.output<typeof secretsManagerAccessSchema>;

/** The access the parsed values describe, defaults applied; undefined when none of them is set. */
export function secretsManagerAccessOf(values: SecretsManagerAccessValues): SecretsManagerAccess | undefined {
  const { SECRETS_MANAGER_ACCESS: mode, PARAMETERS_SECRETS_EXTENSION_HTTP_PORT: port, SECRETS_MANAGER_TTL: ttl } = values;
  if (mode === undefined && port === undefined && ttl === undefined) return undefined;
  const defaults = SECRETS_MANAGER_ACCESS_DEFAULTS;
  return {
    mode: mode ?? defaults.mode,
    extensionPort: port ?? defaults.extensionPort,
    extensionCacheTtlSeconds: ttl ?? defaults.extensionCacheTtlSeconds,
  };
}

/**
 * Reads `SECRETS_MANAGER_ACCESS` (`sdk`, the default, or `extension`) and the extension's
 * `PARAMETERS_SECRETS_EXTENSION_HTTP_PORT` and `SECRETS_MANAGER_TTL` from `env`; an empty value
 * counts as unset.
 *
 * @throws {ConfigError} `CONFIG_INVALID` naming each bad variable, its rule and its value, e.g.
 *   `SECRETS_MANAGER_ACCESS must be one of sdk, extension, got "lambda"`.
 */
export function secretsManagerAccessFromEnv(env: NodeJS.ProcessEnv): SecretsManagerAccess {
  const raw: Record<string, string> = {};
  for (const key of Object.keys(secretsManagerAccessShape)) {
    const value = env[key]?.trim();
    if (value !== undefined && value !== '') raw[key] = value;
  }
  const parsed = secretsManagerAccessSchema.safeParse(raw, { jitless: true });
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => {
      const key = String(issue.path[0]);
      return `${key} ${issue.message}, got ${JSON.stringify(raw[key])}`;
    });
    throw new ConfigError('CONFIG_INVALID', `invalid configuration: ${issues.join('; ')}`, { cause: parsed.error });
  }
  return secretsManagerAccessOf(parsed.data) ?? SECRETS_MANAGER_ACCESS_DEFAULTS;
}
