import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SecretError } from './secret-error.js';

/**
 * Returns a function that reads the `SecretString` of `secretId` from Secrets Manager. The SDK
 * client is created on first use and honours the standard endpoint settings
 * (`AWS_ENDPOINT_URL_SECRETS_MANAGER`, `AWS_ENDPOINT_URL`), so it can point at an emulator.
 *
 * The returned function throws {@link SecretError}: `SECRET_NOT_FOUND`, `SECRET_FETCH_FAILED`
 * (naming the SDK error), or `SECRET_NOT_A_STRING` when the secret holds only `SecretBinary`.
 */
export function secretsManagerString(secretId: string, client?: SecretsManagerClient): () => Promise<string> {
  // Created on first use, not at import: cold start pays only for what the function touches.
  let sm = client;
  return async function fetchSecretString() {
    sm ??= new SecretsManagerClient({});
    let answer;
    try {
      answer = await sm.send(new GetSecretValueCommand({ SecretId: secretId }));
    } catch (error) {
      const name = (error as Error).name;
      const code = name === 'ResourceNotFoundException' ? 'SECRET_NOT_FOUND' : 'SECRET_FETCH_FAILED';
      throw new SecretError(code, `cannot get secret ${secretId} from secrets manager: ${name}`, { cause: error });
    }
    if (typeof answer.SecretString !== 'string' || answer.SecretString === '') {
      throw new SecretError('SECRET_NOT_A_STRING', `secret ${secretId} must hold a SecretString`);
    }
    return answer.SecretString;
  };
}
