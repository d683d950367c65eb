/** How the function reads Secrets Manager: `SECRETS_MANAGER_ACCESS`. */
export const SECRETS_MANAGER_ACCESS_MODES = ['sdk', 'extension'] as const;
export type SecretsManagerAccessMode = (typeof SECRETS_MANAGER_ACCESS_MODES)[number];

/**
 * The way every secret read goes (the SVID and the webhook signing secret): `sdk` calls
 * `GetSecretValue` with the AWS SDK; `extension` asks the AWS Parameters and Secrets Lambda
 * Extension on localhost, which calls Secrets Manager itself and caches the answer.
 */
export interface SecretsManagerAccess {
  mode: SecretsManagerAccessMode;
  /** `PARAMETERS_SECRETS_EXTENSION_HTTP_PORT`: the extension's port; the extension reads it too. */
  extensionPort: number;
  /**
   * `SECRETS_MANAGER_TTL`: how long the extension serves an answer from its cache, in seconds (AWS
   * allows 0 to 300); the extension reads it too. Bounds how stale an answer can be.
   */
  extensionCacheTtlSeconds: number;
}

/** The extension's own defaults (AWS: port 2773, TTL 300 s); the SDK unless configured. */
export const SECRETS_MANAGER_ACCESS_DEFAULTS: SecretsManagerAccess = {
  mode: 'sdk',
  extensionPort: 2773,
  extensionCacheTtlSeconds: 300,
};
