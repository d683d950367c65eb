import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SecretError } from '../../../shared/secrets/secret-error.js';
import { secretsManagerString } from '../../../shared/secrets/secrets-manager-string.js';

describe('secretsManagerString', () => {
  describe('against a loopback endpoint', () => {
    // A stand-in Secrets Manager, so the real default client is shown to honour the endpoint override.
    let server: Server;
    const requests: { target: string | undefined; body: string }[] = [];
    const saved = { ...process.env };

    beforeAll(async () => {
      server = createServer((req, res) => {
        let body = '';
        req.on('data', (chunk: Buffer) => (body += chunk.toString()));
        req.on('end', () => {
          requests.push({ target: req.headers['x-amz-target'] as string | undefined, body });
          res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
          res.end(JSON.stringify({ Name: 'webhook', SecretString: 'whsec_fromloopback' }));
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      Object.assign(process.env, {
        AWS_ENDPOINT_URL_SECRETS_MANAGER: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        AWS_REGION: 'eu-west-1',
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
      });
    });
    afterAll(async () => {
      process.env = saved;
      await new Promise((resolve) => server.close(resolve));
    });

    it('honours AWS_ENDPOINT_URL_SECRETS_MANAGER with the default client', async () => {
      const value = await secretsManagerString('payments/webhook')();

      expect(value).toBe('whsec_fromloopback');
      expect(requests).toEqual([{ target: 'secretsmanager.GetSecretValue', body: '{"SecretId":"payments/webhook"}' }]);
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

      await expect(secretsManagerString('payments/webhook', client)()).resolves.toBe('whsec_x');
    });

    it('reports a missing secret as SECRET_NOT_FOUND naming it', async () => {
      sm.on(GetSecretValueCommand).rejects(Object.assign(new Error('nope'), { name: 'ResourceNotFoundException' }));

      const error = (await secretsManagerString('payments/missing', client)().catch((e: unknown) => e)) as SecretError;

      expect(error).toBeInstanceOf(SecretError);
      expect(error.code).toBe('SECRET_NOT_FOUND');
      expect(error.message).toBe('cannot get secret payments/missing from secrets manager: ResourceNotFoundException');
    });

    it('reports any other failure as SECRET_FETCH_FAILED naming the SDK error', async () => {
      sm.on(GetSecretValueCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));

      const error = (await secretsManagerString('payments/webhook', client)().catch((e: unknown) => e)) as SecretError;

      expect(error.code).toBe('SECRET_FETCH_FAILED');
      expect(error.message).toContain('AccessDeniedException');
    });

    it('rejects a secret that holds only SecretBinary as SECRET_NOT_A_STRING', async () => {
      sm.on(GetSecretValueCommand).resolves({ SecretBinary: new Uint8Array([1, 2, 3]) });

      const error = (await secretsManagerString('payments/webhook', client)().catch((e: unknown) => e)) as SecretError;

      expect(error.code).toBe('SECRET_NOT_A_STRING');
      expect(error.message).toBe('secret payments/webhook must hold a SecretString');
    });
  });
});
