import type { GetSecretValueCommandOutput, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SecretError } from './secret-error.js';
import { secretsExtensionValue, type SecretsExtensionOptions } from './secrets-extension-value.js';
import { SECRETS_MANAGER_ACCESS_DEFAULTS, type SecretsManagerAccess } from './secrets-manager-access.js';

/** What a secret read returns, whichever way it went: the fields of `GetSecretValue`'s answer. */
export type SecretValueAnswer = Pick<
  GetSecretValueCommandOutput,
  'ARN' | 'Name' | 'VersionId' | 'SecretBinary' | 'SecretString' | 'VersionStages' | 'CreatedDate'
>;

export interface SecretsManagerValueOptions {
  /** `SECRETS_MANAGER_ACCESS` and the extension's settings; the SDK by default. */
  access?: SecretsManagerAccess;
  /** Reused for tests; otherwise the SDK client is created (and its module loaded) on first use. */
  client?: SecretsManagerClient;
  /** Test seams of the extension reader (timeouts, retry pacing). */
  extension?: Partial<SecretsExtensionOptions>;
}

/**
 * Returns a function that reads `secretId` from Secrets Manager, both the SVID secret SPIRE writes
 * and the webhook signing secret: through the SDK (default), or through the AWS Parameters and
 * Secrets Lambda Extension on localhost when `access.mode` is `extension`
 * (`SECRETS_MANAGER_ACCESS=extension`).
 *
 * The SDK's module is imported on first use, never at init: a cold start that reads through the
 * extension (or not at all) never loads it. The client honours the standard endpoint settings
 * (`AWS_ENDPOINT_URL_SECRETS_MANAGER`, `AWS_ENDPOINT_URL`), so it can point at an emulator.
 *
 * The returned function throws {@link SecretError}: `SECRET_NOT_FOUND`, or `SECRET_FETCH_FAILED`
 * naming the SDK error or the extension's status (never the secret's contents).
 */
export function secretsManagerValue(secretId: string, options: SecretsManagerValueOptions = {}): () => Promise<SecretValueAnswer> {
  const access = options.access ?? SECRETS_MANAGER_ACCESS_DEFAULTS;
  if (access.mode === 'extension') {
    return secretsExtensionValue(secretId, { port: access.extensionPort, ...options.extension });
  }
  return sdkSecretValue(secretId, options.client);
}

/**
 * Returns a function that reads `secretId` with `GetSecretValue` through the SDK, whatever the
 * configured access: the fresh read the SVID fetcher falls back to when the extension's cache
 * could hide a rotation.
 *
 * The returned function throws {@link SecretError} as {@link secretsManagerValue}'s.
 */
export function sdkSecretValue(secretId: string, client?: SecretsManagerClient): () => Promise<SecretValueAnswer> {
  let sm = client;
  return async function getSecretValue() {
    // Loaded here rather than at the top: a function reading through the extension never loads it (see `shared/cold-start/aws-sdk-preload.ts`).
    const { GetSecretValueCommand, SecretsManagerClient } = await import('@aws-sdk/client-secrets-manager');
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
