import { GetSecretValueCommand, SecretsManagerClient, type GetSecretValueCommandOutput } from '@aws-sdk/client-secrets-manager';
import { SecretError } from './secret-error.js';

/**
 * Returns a function that reads `secretId` from Secrets Manager, both the SVID secret SPIRE writes
 * and the webhook signing secret. The SDK client is created on first use (cold start pays only for
 * what the function touches) and honours the standard endpoint settings
 * (`AWS_ENDPOINT_URL_SECRETS_MANAGER`, `AWS_ENDPOINT_URL`), so it can point at an emulator.
 *
 * The returned function throws {@link SecretError}: `SECRET_NOT_FOUND`, or `SECRET_FETCH_FAILED`
 * naming the SDK error (never the secret's contents).
 */
export function secretsManagerValue(secretId: string, client?: SecretsManagerClient): () => Promise<GetSecretValueCommandOutput> {
  let sm = client;
  return async function getSecretValue() {
    sm ??= new SecretsManagerClient({});
    try {
      return await sm.send(new GetSecretValueCommand({ SecretId: secretId }));
    } catch (error) {
      const name = (error as Error).name;
      const code = name === 'ResourceNotFoundException' ? 'SECRET_NOT_FOUND' : 'SECRET_FETCH_FAILED';
      throw new SecretError(code, `cannot get secret ${secretId} from secrets manager: ${name}`, { cause: error });
    }
  };
}
