import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SecretError } from '../../../shared/secrets/secret-error.js';
import { secretsManagerString } from '../../../shared/secrets/secrets-manager-string.js';
import { startSecretsManagerEndpoint, type SecretsManagerEndpoint } from '../../fixtures/secrets-manager-endpoint.js';

describe('secretsManagerString', () => {
  describe('against a loopback endpoint', () => {
    let endpoint: SecretsManagerEndpoint;

    beforeAll(async () => {
      endpoint = await startSecretsManagerEndpoint();
      endpoint.answer(200, { Name: 'webhook', SecretString: 'whsec_fromloopback' });
    });
    afterAll(async () => {
      await endpoint.close();
    });

    it('honours AWS_ENDPOINT_URL_SECRETS_MANAGER with the default client', async () => {
      const value = await secretsManagerString('payments/webhook')();

      expect(value).toBe('whsec_fromloopback');
      expect(endpoint.requests).toEqual([{ target: 'secretsmanager.GetSecretValue', body: '{"SecretId":"payments/webhook"}' }]);
    });
  });

  describe('answers', () => {
    // Mocked per test, not at collection: the loopback test above needs the real client.
    let sm: AwsClientStub<SecretsManagerClient>;
    beforeEach(() => {
      sm = mockClient(SecretsManagerClient);
    });
    afterEach(() => sm.restore());
    const client = new SecretsManagerClient({ region: 'eu-west-1' });

    it('returns the SecretString', async () => {
      sm.on(GetSecretValueCommand, { SecretId: 'payments/webhook' }).resolves({ SecretString: 'whsec_x' });

      await expect(secretsManagerString('payments/webhook', { client })()).resolves.toBe('whsec_x');
    });

    it('reports a missing secret as SECRET_NOT_FOUND naming it', async () => {
      sm.on(GetSecretValueCommand).rejects(Object.assign(new Error('nope'), { name: 'ResourceNotFoundException' }));

      const error = (await secretsManagerString('payments/missing', { client })().catch((e: unknown) => e)) as SecretError;

      expect(error).toBeInstanceOf(SecretError);
      expect(error.code).toBe('SECRET_NOT_FOUND');
      expect(error.message).toBe('cannot get secret payments/missing from secrets manager: ResourceNotFoundException');
    });

    it('reports any other failure as SECRET_FETCH_FAILED naming the SDK error', async () => {
      sm.on(GetSecretValueCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));

      const error = (await secretsManagerString('payments/webhook', { client })().catch((e: unknown) => e)) as SecretError;

      expect(error.code).toBe('SECRET_FETCH_FAILED');
      expect(error.message).toContain('AccessDeniedException');
    });

    it('rejects a secret that holds only SecretBinary as SECRET_NOT_A_STRING', async () => {
      sm.on(GetSecretValueCommand).resolves({ SecretBinary: new Uint8Array([1, 2, 3]) });

      const error = (await secretsManagerString('payments/webhook', { client })().catch((e: unknown) => e)) as SecretError;

      expect(error.code).toBe('SECRET_NOT_A_STRING');
      expect(error.message).toBe('secret payments/webhook must hold a SecretString');
    });
  });
});
