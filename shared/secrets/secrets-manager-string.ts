import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SecretError } from './secret-error.js';
import { secretsManagerValue } from './secrets-manager-value.js';

/**
 * Returns a function that reads the `SecretString` of `secretId` from Secrets Manager.
 *
 * The returned function throws {@link SecretError}: the codes of {@link secretsManagerValue}, or
 * `SECRET_NOT_A_STRING` when the secret holds only `SecretBinary`.
 */
export function secretsManagerString(secretId: string, client?: SecretsManagerClient): () => Promise<string> {
  const getSecretValue = secretsManagerValue(secretId, client);
  return async function fetchSecretString() {
    const answer = await getSecretValue();
    if (typeof answer.SecretString !== 'string' || answer.SecretString === '') {
      throw new SecretError('SECRET_NOT_A_STRING', `secret ${secretId} must hold a SecretString`);
    }
    return answer.SecretString;
  };
}
