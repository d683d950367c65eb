import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { IdentityError } from '../errors.js';
import { svidFromSpireSecret } from './spire-secret.js';
import type { SvidFetcher } from './svid-fetcher.js';

/**
 * Fetches the function's SVID from the secret SPIRE's `aws_secretsmanager` SVIDStore keeps
 * current. The SDK client honours the standard endpoint settings
 * (`AWS_ENDPOINT_URL_SECRETS_MANAGER`, `AWS_ENDPOINT_URL`), so it can point at an emulator.
 *
 * @throws {IdentityError} `IDENTITY_SECRET_NOT_FOUND`, `IDENTITY_SECRET_FETCH_FAILED`, or the codes
 *   of {@link svidFromSpireSecret}.
 */
export function secretsManagerSvidFetcher(secretId: string, client?: SecretsManagerClient): SvidFetcher {
  // Created on first use, not at import: cold start pays only for what the function touches.
  let sm = client;
  return async function fetchSvidFromSecretsManager() {
    sm ??= new SecretsManagerClient({});
    let answer;
    try {
      answer = await sm.send(new GetSecretValueCommand({ SecretId: secretId }));
    } catch (error) {
      const name = (error as Error).name;
      const code = name === 'ResourceNotFoundException' ? 'IDENTITY_SECRET_NOT_FOUND' : 'IDENTITY_SECRET_FETCH_FAILED';
      throw new IdentityError(code, `cannot get secret ${secretId} from secrets manager: ${name}`, { cause: error });
    }
    return svidFromSpireSecret(answer, secretId);
  };
}
