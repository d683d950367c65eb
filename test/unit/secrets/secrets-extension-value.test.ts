import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { svidFromSpireSecret } from '../../../shared/identity/spire-secret.js';
import { SecretError } from '../../../shared/secrets/secret-error.js';
import { secretsExtensionValue, type SecretsExtensionOptions } from '../../../shared/secrets/secrets-extension-value.js';
import { secretsManagerValue } from '../../../shared/secrets/secrets-manager-value.js';
import { startSecretsExtensionEndpoint, type SecretsExtensionEndpoint } from '../../fixtures/secrets-extension-endpoint.js';
import { DevCa, spireSecretBinary, type MintedSvid } from '../../local/dev-ca.js';

const TOKEN = 'IQoJb3JpZ2luX2VjEBAaCXVzLWVhc3QtMSJHMEUCIQ-session-token';
const SVID_ID = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:spire/payment+functions-AbCdEf';
let extension: SecretsExtensionEndpoint;
let ca: DevCa;
let svid: MintedSvid;

beforeAll(async () => {
  ca = await DevCa.create('jia.app');
  svid = await ca.mintSvid('spiffe://jia.app/payment-functions');
  extension = await startSecretsExtensionEndpoint({ token: TOKEN, ttlSeconds: 0 });
  extension.put(SVID_ID, { SecretBinary: spireSecretBinary(svid, ca.bundlePem) });
  extension.put('payments/webhook', { SecretString: 'whsec_from_the_extension' });
});
afterAll(async () => {
  await extension.close();
});
afterEach(() => {
  extension.requests.length = 0;
  extension.answerNext(0, 0, '');
});

/** The reader pointed at the stand-in with the sandbox's token; `opts` override. */
function reader(secretId: string, opts: Partial<SecretsExtensionOptions> = {}) {
  return secretsExtensionValue(secretId, { port: extension.port, token: () => TOKEN, retryDelayMs: 1, maxRetryDelayMs: 5, ...opts });
}

async function secretErrorOf(read: () => Promise<unknown>): Promise<SecretError> {
  const error = await read().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SecretError);
  return error as SecretError;
}

describe('secretsExtensionValue', () => {
  it('asks localhost for the url-encoded secret id with the session token in X-Aws-Parameters-Secrets-Token', async () => {
    await reader(SVID_ID)();

    expect(extension.requests).toEqual([{ url: `/secretsmanager/get?secretId=${encodeURIComponent(SVID_ID)}`, token: TOKEN }]);
  });

  it('decodes SecretBinary from base64 into the very SVID SPIRE wrote', async () => {
    const answer = await reader(SVID_ID)();

    expect(answer.SecretString).toBeUndefined();
    const material = svidFromSpireSecret(answer, SVID_ID);
    expect(material.svid.serialNumber).toBe(svid.serialNumber);
    expect(material.svid.certChainPem).toBe(svid.certChainPem);
  });

  it('hands over SecretString, and the metadata as the SDK would (CreatedDate a Date)', async () => {
    const answer = await reader('payments/webhook')();

    expect(answer).toMatchObject({ Name: 'payments/webhook', SecretString: 'whsec_from_the_extension', VersionStages: ['AWSCURRENT'] });
    expect(answer.SecretBinary).toBeUndefined();
    expect(answer.CreatedDate).toBeInstanceOf(Date);
  });

  it('reads the token from AWS_SESSION_TOKEN by default, and refuses to ask without one', async () => {
    const saved = process.env.AWS_SESSION_TOKEN;
    try {
      process.env.AWS_SESSION_TOKEN = TOKEN;
      await expect(secretsExtensionValue('payments/webhook', { port: extension.port })()).resolves.toMatchObject({ SecretString: 'whsec_from_the_extension' });
      delete process.env.AWS_SESSION_TOKEN;
      const error = await secretErrorOf(secretsExtensionValue('payments/webhook', { port: extension.port }));
      expect(error.code).toBe('SECRET_FETCH_FAILED');
      expect(error.message).toBe(
        'cannot get secret payments/webhook from the secrets extension: AWS_SESSION_TOKEN is not set, and the extension requires it as X-Aws-Parameters-Secrets-Token',
      );
      expect(extension.requests).toHaveLength(1);
    } finally {
      if (saved === undefined) delete process.env.AWS_SESSION_TOKEN;
      else process.env.AWS_SESSION_TOKEN = saved;
    }
  });

  it('reports a refused token as SECRET_FETCH_FAILED with the status, never the token', async () => {
    const error = await secretErrorOf(reader('payments/webhook', { token: () => 'a-stale-session-token' }));

    expect(error.code).toBe('SECRET_FETCH_FAILED');
    expect(error.message).toBe('cannot get secret payments/webhook from the secrets extension: http 403');
    expect(error.message).not.toContain('a-stale-session-token');
  });

  it('reports ResourceNotFoundException as SECRET_NOT_FOUND naming the secret and the status', async () => {
    const error = await secretErrorOf(reader('payments/missing'));

    expect(error.code).toBe('SECRET_NOT_FOUND');
    expect(error.message).toBe('cannot get secret payments/missing from the secrets extension: http 400 ResourceNotFoundException');
  });

  it('reports any other failure as SECRET_FETCH_FAILED without the body of the answer', async () => {
    extension.answerNext(1, 500, 'an unexpected error occurred while executing request');

    const error = await secretErrorOf(reader('payments/webhook'));

    expect(error.code).toBe('SECRET_FETCH_FAILED');
    expect(error.message).toBe('cannot get secret payments/webhook from the secrets extension: http 500');
  });

  it.each([
    [400, 'not ready to serve traffic, please wait'],
    [503, 'Serving not enabled. Hit the /start_serving endpoint to enable serving requests.'],
    [429, 'Connection limit exceeded'],
  ])('asks again while the extension answers %i "%s", then reads the secret', async (status, body) => {
    extension.answerNext(3, status, body);

    const answer = await reader('payments/webhook')();

    expect(answer.SecretString).toBe('whsec_from_the_extension');
    expect(extension.requests).toHaveLength(4);
  });

  it('asks again while nothing listens on the port yet, as at a cold start', async () => {
    const port = await freePort();
    const starting = new Promise<SecretsExtensionEndpoint>((resolve) => {
      setTimeout(() => resolve(startSecretsExtensionEndpoint({ token: TOKEN, port })), 50);
    });
    try {
      const read = reader('late/secret', { port, retryDelayMs: 5, maxRetryDelayMs: 20 })();
      const late = await starting;
      late.put('late/secret', { SecretString: 'whsec_late' });
      await expect(read).resolves.toMatchObject({ SecretString: 'whsec_late' });
    } finally {
      await (await starting).close();
    }
  });

  it('gives up once the extension stays not ready past readyWithinMs, naming the last status', async () => {
    extension.answerNext(1_000, 503, 'Serving not enabled.');

    const started = performance.now();
    const error = await secretErrorOf(reader('payments/webhook', { readyWithinMs: 100, retryDelayMs: 10, maxRetryDelayMs: 20 }));

    expect(error.code).toBe('SECRET_FETCH_FAILED');
    expect(error.message).toBe('cannot get secret payments/webhook from the secrets extension: http 503');
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(extension.requests.length).toBeGreaterThan(1);
  });

  it('gives up on an extension that accepts but never answers after requestTimeoutMs, leaving no timer behind', async () => {
    const silent = await silentServer();
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = timers();
    try {
      const error = await secretErrorOf(reader('payments/webhook', { port: (silent.address() as AddressInfo).port, requestTimeoutMs: 50 }));

      expect(error.code).toBe('SECRET_FETCH_FAILED');
      expect(error.message).toBe('cannot get secret payments/webhook from the secrets extension: ETIMEDOUT');
      // At most as many as before: a timer of an earlier test may have fired meanwhile, but none is added.
      expect(timers()).toBeLessThanOrEqual(before);
    } finally {
      silent.close();
    }
  });

  it('rejects a 200 that is not GetSecretValue json without echoing it', async () => {
    const server = await startSecretsExtensionEndpoint({ token: TOKEN });
    try {
      server.answerNext(1, 200, 'whsec_not_json');
      const error = await secretErrorOf(reader('payments/webhook', { port: server.port }));

      expect(error.code).toBe('SECRET_FETCH_FAILED');
      expect(error.message).toBe('cannot get secret payments/webhook from the secrets extension: http 200 with a body that is not GetSecretValue json');
    } finally {
      await server.close();
    }
  });
});

describe('secretsManagerValue with SECRETS_MANAGER_ACCESS=extension', () => {
  const sm = mockClient(SecretsManagerClient);
  afterAll(() => sm.restore());

  it('reads through the extension and never calls Secrets Manager through the SDK', async () => {
    const read = secretsManagerValue('payments/webhook', {
      access: { mode: 'extension', extensionPort: extension.port, extensionCacheTtlSeconds: 300 },
      extension: { token: () => TOKEN },
    });

    await expect(read()).resolves.toMatchObject({ SecretString: 'whsec_from_the_extension' });
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(0);
  });

  it('reads through the SDK by default', async () => {
    sm.on(GetSecretValueCommand, { SecretId: 'payments/webhook' }).resolves({ SecretString: 'whsec_from_the_api' });

    await expect(secretsManagerValue('payments/webhook', { client: new SecretsManagerClient({ region: 'eu-west-1' }) })()).resolves.toMatchObject({
      SecretString: 'whsec_from_the_api',
    });
    expect(extension.requests).toHaveLength(0);
  });
});

/** A port nothing listens on (just released by a server that had it). */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** A TCP server that accepts connections and never writes a byte. */
async function silentServer(): Promise<Server> {
  const sockets = new Set<import('node:net').Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const close = server.close.bind(server);
  server.close = ((callback?: (error?: Error) => void) => {
    for (const socket of sockets) socket.destroy();
    return close(callback);
  }) as Server['close'];
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}
