// Secrets other than the SVID: re-exports only.
export {
  CachedSecret,
  CACHED_SECRET_DEFAULTS,
  type CachedSecretOptions,
  type SecretRefreshErrorListener,
} from './cached-secret.js';
export { SecretError, type SecretErrorCode } from './secret-error.js';
export { secretsManagerString } from './secrets-manager-string.js';
export { secretsManagerValue } from './secrets-manager-value.js';
