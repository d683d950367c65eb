// Secrets other than the SVID: re-exports only.
export {
  CachedSecret,
  CACHED_SECRET_DEFAULTS,
  type CachedSecretOptions,
  type SecretRefreshErrorListener,
} from './cached-secret.js';
export { SecretError, type SecretErrorCode } from './secret-error.js';
export { secretsExtensionValue, SECRETS_EXTENSION_DEFAULTS, type SecretsExtensionOptions } from './secrets-extension-value.js';
export {
  SECRETS_MANAGER_ACCESS_DEFAULTS,
  SECRETS_MANAGER_ACCESS_MODES,
  type SecretsManagerAccess,
  type SecretsManagerAccessMode,
} from './secrets-manager-access.js';
export { secretsManagerString } from './secrets-manager-string.js';
export { sdkSecretValue, secretsManagerValue, type SecretsManagerValueOptions, type SecretValueAnswer } from './secrets-manager-value.js';
