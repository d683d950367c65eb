import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { IdentityError } from '../errors.js';
import { SecretError } from '../secrets/secret-error.js';
import { secretsManagerValue } from '../secrets/secrets-manager-value.js';
import { svidFromSpireSecret } from './spire-secret.js';
import type { SvidFetcher } from './svid-fetcher.js';

/**
 * Fetches the function's SVID from the secret SPIRE's `aws_secretsmanager` SVIDStore keeps
 * current (through {@link secretsManagerValue}, so the standard endpoint settings apply).
 *
 * @throws {IdentityError} `IDENTITY_SECRET_NOT_FOUND`, `IDENTITY_SECRET_FETCH_FAILED`, or the codes
 *   of {@link svidFromSpireSecret}.
 */
export function secretsManagerSvidFetcher(secretId: string, client?: SecretsManagerClient): SvidFetcher {
  const getSecretValue = secretsManagerValue(secretId, client);
  return async function fetchSvidFromSecretsManager() {
    let answer;
    try {
      answer = await getSecretValue();
    } catch (error) {
      if (!(error instanceof SecretError)) throw error;
      const code = error.code === 'SECRET_NOT_FOUND' ? 'IDENTITY_SECRET_NOT_FOUND' : 'IDENTITY_SECRET_FETCH_FAILED';
      throw new IdentityError(code, error.message, { cause: error.cause });
    }
    return svidFromSpireSecret(answer, secretId);
  };
}
