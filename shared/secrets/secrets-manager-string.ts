import { SecretError } from './secret-error.js';
import { secretsManagerValue, type SecretsManagerValueOptions } from './secrets-manager-value.js';

/**
 * Returns a function that reads the `SecretString` of `secretId` from Secrets Manager, through the
 * SDK or the extension as `options.access` says.
 *
 * The returned function throws {@link SecretError}: the codes of {@link secretsManagerValue}, or
 * `SECRET_NOT_A_STRING` when the secret holds only `SecretBinary`.
 */
export function secretsManagerString(secretId: string, options: SecretsManagerValueOptions = {}): () => Promise<string> {
  const getSecretValue = secretsManagerValue(secretId, options);
  return async function fetchSecretString() {
    const answer = await getSecretValue();
    if (typeof answer.SecretString !== 'string' || answer.SecretString === '') {
      throw new SecretError('SECRET_NOT_A_STRING', `secret ${secretId} must hold a SecretString`);
    }
    return answer.SecretString;
  };
}
