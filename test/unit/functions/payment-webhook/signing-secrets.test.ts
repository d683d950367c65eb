import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { parseSigningSecrets, signingSecretSource } from '../../../../functions/payment-webhook/signing-secrets.js';
import type { WebhookError } from '../../../../functions/payment-webhook/webhook-error.js';
import { startSecretsExtensionEndpoint } from '../../../fixtures/secrets-extension-endpoint.js';
import { ROTATED_SIGNING_SECRET, TEST_SIGNING_SECRET } from '../../../fixtures/stripe.js';

const sm = mockClient(SecretsManagerClient);
afterEach(() => sm.reset());

describe('parseSigningSecrets', () => {
  it.each([
    ['a raw secret', TEST_SIGNING_SECRET, [TEST_SIGNING_SECRET]],
    ['raw secrets, comma-separated', ` ${TEST_SIGNING_SECRET} , ${ROTATED_SIGNING_SECRET},`, [TEST_SIGNING_SECRET, ROTATED_SIGNING_SECRET]],
    ['JSON with signingSecret', JSON.stringify({ signingSecret: TEST_SIGNING_SECRET, note: 'x' }), [TEST_SIGNING_SECRET]],
    [
      'JSON with comma-separated secrets',
      JSON.stringify({ signingSecret: `${TEST_SIGNING_SECRET},${ROTATED_SIGNING_SECRET}` }),
      [TEST_SIGNING_SECRET, ROTATED_SIGNING_SECRET],
    ],
  ])('reads %s', (_, text, secrets) => {
    expect(parseSigningSecrets(text, 'payments/webhook')).toEqual(secrets);
  });

  it.each([
    ['an API key', 'sk_test_notawebhooksecret', 'must be one or more comma-separated stripe signing secrets'],
    ['an empty value', ' , ', 'must be one or more comma-separated stripe signing secrets'],
    ['a bare prefix', 'whsec_', 'must be one or more comma-separated stripe signing secrets'],
    ['broken JSON', '{"signingSecret": "whsec_abc"', 'starts with { but is not JSON'],
    ['JSON without signingSecret', '{"secret": "whsec_abc"}', 'as JSON must have a string signingSecret'],
  ])('refuses %s, naming the source but not the value', (_, text, rule) => {
    try {
      parseSigningSecrets(text, 'payments/webhook');
      expect.unreachable();
    } catch (error) {
      expect((error as WebhookError).code).toBe('WEBHOOK_SECRET_MALFORMED');
      expect((error as Error).message).toContain('signing secret payments/webhook');
      expect((error as Error).message).toContain(rule);
      expect((error as Error).message).not.toContain('whsec_');
      expect((error as Error).message).not.toContain('sk_test');
    }
  });
});

describe('signingSecretSource', () => {
  it('serves literal secrets without any Secrets Manager call', async () => {
    const source = signingSecretSource({ secrets: [TEST_SIGNING_SECRET] });

    expect(await source()).toEqual([TEST_SIGNING_SECRET]);
    expect(sm.calls()).toHaveLength(0);
  });

  it('fetches a Secrets Manager secret once per TTL and parses it', async () => {
    sm.on(GetSecretValueCommand, { SecretId: 'payments/webhook' })
      .resolvesOnce({ SecretString: TEST_SIGNING_SECRET })
      .resolves({ SecretString: JSON.stringify({ signingSecret: `${TEST_SIGNING_SECRET},${ROTATED_SIGNING_SECRET}` }) });
    const clock = { now: 0 };
    const source = signingSecretSource(
      { secretId: 'payments/webhook' },
      { client: new SecretsManagerClient({ region: 'eu-west-1' }), cache: { ttlMs: 300_000, now: () => clock.now } },
    );

    const first = await source();
    clock.now = 299_999;
    const cached = await source();
    clock.now = 300_000;
    const refreshed = await source();

    expect(first).toEqual([TEST_SIGNING_SECRET]);
    expect(cached).toEqual([TEST_SIGNING_SECRET]);
    expect(refreshed).toEqual([TEST_SIGNING_SECRET, ROTATED_SIGNING_SECRET]);
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });

  it('reads the secret through the Parameters and Secrets extension when told to, with no SDK call', async () => {
    const saved = process.env.AWS_SESSION_TOKEN;
    const extension = await startSecretsExtensionEndpoint({ token: 'sandbox-session-token' });
    try {
      process.env.AWS_SESSION_TOKEN = 'sandbox-session-token';
      extension.put('payments/webhook', { SecretString: JSON.stringify({ signingSecret: TEST_SIGNING_SECRET }) });
      const source = signingSecretSource(
        { secretId: 'payments/webhook' },
        { access: { mode: 'extension', extensionPort: extension.port, extensionCacheTtlSeconds: 300 } },
      );

      expect(await source()).toEqual([TEST_SIGNING_SECRET]);
      expect(extension.requests).toHaveLength(1);
      expect(sm.calls()).toHaveLength(0);
    } finally {
      await extension.close();
      if (saved === undefined) delete process.env.AWS_SESSION_TOKEN;
      else process.env.AWS_SESSION_TOKEN = saved;
    }
  });

  it('keeps the last good secrets when a refresh returns a malformed value, and says so', async () => {
    sm.on(GetSecretValueCommand).resolvesOnce({ SecretString: TEST_SIGNING_SECRET }).resolves({ SecretString: 'oops' });
    const clock = { now: 0 };
    const errors: unknown[] = [];
    const source = signingSecretSource(
      { secretId: 'payments/webhook' },
      {
        client: new SecretsManagerClient({ region: 'eu-west-1' }),
        cache: { ttlMs: 1_000, now: () => clock.now },
        onRefreshError: (error) => errors.push(error),
      },
    );
    await source();

    clock.now = 1_000;

    expect(await source()).toEqual([TEST_SIGNING_SECRET]);
    expect(errors).toEqual([expect.objectContaining({ code: 'WEBHOOK_SECRET_MALFORMED' })]);
  });

  it('throws the fetch error when nothing good was ever loaded', async () => {
    sm.on(GetSecretValueCommand).rejects(Object.assign(new Error('gone'), { name: 'ResourceNotFoundException' }));
    const source = signingSecretSource(
      { secretId: 'payments/webhook' },
      { client: new SecretsManagerClient({ region: 'eu-west-1' }) },
    );

    await expect(source()).rejects.toMatchObject({ code: 'SECRET_NOT_FOUND' });
  });
});
