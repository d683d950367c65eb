import { STRIPE_EVENT_SETTINGS_DEFAULTS } from '../../../../functions/payment-webhook/stripe/stripe-event-settings.js';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../../shared/errors.js';
import { SECRETS_MANAGER_ACCESS_DEFAULTS } from '../../../../shared/secrets/secrets-manager-access.js';
import { paymentWebhookConfigFromEnv } from '../../../../functions/payment-webhook/webhook-config.js';
import { TEST_SIGNING_SECRET } from '../../../fixtures/stripe.js';

const QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/entitlements';

function configError(env: NodeJS.ProcessEnv): ConfigError {
  try {
    paymentWebhookConfigFromEnv(env);
  } catch (error) {
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('paymentWebhookConfigFromEnv', () => {
  it('reads a Secrets Manager secret id, the queue and the default tolerance', () => {
    expect(paymentWebhookConfigFromEnv({ QUEUE_URL, WEBHOOK_SIGNING_SECRET_ID: 'payments/webhook' })).toEqual({
      queueUrl: QUEUE_URL,
      signingSecret: { secretId: 'payments/webhook' },
      secretsManager: SECRETS_MANAGER_ACCESS_DEFAULTS,
      toleranceSeconds: 300,
      stripe: STRIPE_EVENT_SETTINGS_DEFAULTS,
    });
  });

  it('reads a literal secret for local use, and a tolerance', () => {
    expect(
      paymentWebhookConfigFromEnv({ QUEUE_URL, WEBHOOK_SIGNING_SECRET: TEST_SIGNING_SECRET, WEBHOOK_TOLERANCE_SECONDS: '60' }),
    ).toEqual({
      queueUrl: QUEUE_URL,
      signingSecret: { secrets: [TEST_SIGNING_SECRET] },
      secretsManager: SECRETS_MANAGER_ACCESS_DEFAULTS,
      toleranceSeconds: 60,
      stripe: STRIPE_EVENT_SETTINGS_DEFAULTS,
    });
  });

  it('reads the signing secret through the extension when SECRETS_MANAGER_ACCESS says so', () => {
    const config = paymentWebhookConfigFromEnv({
      QUEUE_URL,
      WEBHOOK_SIGNING_SECRET_ID: 'payments/webhook',
      SECRETS_MANAGER_ACCESS: 'extension',
      PARAMETERS_SECRETS_EXTENSION_HTTP_PORT: '2774',
    });
    expect(config.secretsManager).toEqual({ mode: 'extension', extensionPort: 2774, extensionCacheTtlSeconds: 300 });
  });

  it('names SECRETS_MANAGER_ACCESS and its value when it is neither sdk nor extension', () => {
    const error = configError({ QUEUE_URL, WEBHOOK_SIGNING_SECRET_ID: 'payments/webhook', SECRETS_MANAGER_ACCESS: 'layer' });
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toBe('invalid configuration: SECRETS_MANAGER_ACCESS must be one of sdk, extension, got "layer"');
  });

  it('names both keys when neither secret setting is present (an empty value counts as unset)', () => {
    const error = configError({ QUEUE_URL, WEBHOOK_SIGNING_SECRET: ' ' });

    expect(error).toBeInstanceOf(ConfigError);
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toBe(
      'one of WEBHOOK_SIGNING_SECRET_ID (secrets manager) or WEBHOOK_SIGNING_SECRET (local use) must be set',
    );
  });

  it('refuses both secret settings at once', () => {
    const error = configError({ QUEUE_URL, WEBHOOK_SIGNING_SECRET_ID: 'x', WEBHOOK_SIGNING_SECRET: TEST_SIGNING_SECRET });

    expect(error.message).toBe(
      'only one of WEBHOOK_SIGNING_SECRET_ID (secrets manager) or WEBHOOK_SIGNING_SECRET (local use) may be set',
    );
  });

  it('refuses a literal that is not a signing secret without echoing it', () => {
    const error = configError({ QUEUE_URL, WEBHOOK_SIGNING_SECRET: 'sk_live_oops' });

    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toContain('WEBHOOK_SIGNING_SECRET');
    expect(error.message).not.toContain('sk_live_oops');
  });

  it.each([
    [{ WEBHOOK_SIGNING_SECRET_ID: 'x' }, 'QUEUE_URL must be set to the entitlement queue url'],
    [{ QUEUE_URL: 'entitlements', WEBHOOK_SIGNING_SECRET_ID: 'x' }, 'QUEUE_URL must be a url, got "entitlements"'],
    [
      { QUEUE_URL, WEBHOOK_SIGNING_SECRET_ID: 'x', WEBHOOK_TOLERANCE_SECONDS: '0' },
      'WEBHOOK_TOLERANCE_SECONDS must be a positive integer, got "0"',
    ],
    [
      { QUEUE_URL, WEBHOOK_SIGNING_SECRET_ID: 'x', WEBHOOK_TOLERANCE_SECONDS: '5m' },
      'WEBHOOK_TOLERANCE_SECONDS must be a positive integer, got "5m"',
    ],
  ])('refuses %j: %s', (env, message) => {
    expect(configError(env).message).toBe(message);
  });
});
