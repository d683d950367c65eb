import { secretsManagerAccessFromEnv } from '../../shared/config/secrets-manager-access-config.js';
import { ConfigError } from '../../shared/errors.js';
import type { SecretsManagerAccess } from '../../shared/secrets/secrets-manager-access.js';
import { parseSigningSecrets, type SigningSecretLocation } from './signing-secrets.js';
import { stripeEventSettingsFrom } from './stripe/stripe-event-settings-source.js';
import type { StripeEventSettings } from './stripe/stripe-event-settings.js';

/** The payment webhook's settings, read once per container. */
export interface PaymentWebhookConfig {
  /** `QUEUE_URL`: the SQS queue entitlement commands are sent to. */
  queueUrl: string;
  /** `WEBHOOK_SIGNING_SECRET_ID` (Secrets Manager, AWS) or `WEBHOOK_SIGNING_SECRET` (literal, local use). */
  signingSecret: SigningSecretLocation;
  /** `SECRETS_MANAGER_ACCESS` (and the extension's port and TTL): how the signing secret is read. */
  secretsManager: SecretsManagerAccess;
  /** `WEBHOOK_TOLERANCE_SECONDS`: accepted distance, either way, between the signature's `t` and now. */
  toleranceSeconds: number;
  /** `STRIPE_*` and `CONFIG_FILE`'s `stripe:` section: how events map onto entitlements. */
  stripe: StripeEventSettings;
}

export const PAYMENT_WEBHOOK_CONFIG_DEFAULTS = { toleranceSeconds: 300 } as const;

/**
 * Reads the payment webhook's configuration from environment variables; an empty value counts as
 * unset, as CDK and shells commonly pass "not configured".
 *
 * @throws {ConfigError} `CONFIG_INVALID` naming the key (and the value, unless it is the secret):
 *   `QUEUE_URL` missing or not a URL; neither or both of `WEBHOOK_SIGNING_SECRET_ID` and
 *   `WEBHOOK_SIGNING_SECRET`; `WEBHOOK_SIGNING_SECRET` not `whsec_…` values (the value is not
 *   echoed); `WEBHOOK_TOLERANCE_SECONDS` not a positive integer; a bad `STRIPE_*` setting
 *   ({@link stripeEventSettingsFrom}); a bad `SECRETS_MANAGER_ACCESS`, `PARAMETERS_SECRETS_EXTENSION_HTTP_PORT`
 *   or `SECRETS_MANAGER_TTL` ({@link secretsManagerAccessFromEnv}).
 */
export function paymentWebhookConfigFromEnv(env: NodeJS.ProcessEnv): PaymentWebhookConfig {
  const read = (key: string): string | undefined => {
    const value = env[key]?.trim();
    return value === '' ? undefined : value;
  };

  const queueUrl = read('QUEUE_URL');
  if (queueUrl === undefined) throw new ConfigError('CONFIG_INVALID', 'QUEUE_URL must be set to the entitlement queue url');
  if (!URL.canParse(queueUrl)) throw new ConfigError('CONFIG_INVALID', `QUEUE_URL must be a url, got "${queueUrl}"`);

  const secretId = read('WEBHOOK_SIGNING_SECRET_ID');
  const secretValue = read('WEBHOOK_SIGNING_SECRET');
  if (secretId === undefined && secretValue === undefined) {
    throw new ConfigError(
      'CONFIG_INVALID',
      'one of WEBHOOK_SIGNING_SECRET_ID (secrets manager) or WEBHOOK_SIGNING_SECRET (local use) must be set',
    );
  }
  if (secretId !== undefined && secretValue !== undefined) {
    throw new ConfigError(
      'CONFIG_INVALID',
      'only one of WEBHOOK_SIGNING_SECRET_ID (secrets manager) or WEBHOOK_SIGNING_SECRET (local use) may be set',
    );
  }
  const signingSecret: SigningSecretLocation =
    secretId !== undefined ? { secretId } : { secrets: literalSecrets(secretValue ?? '') };

  let toleranceSeconds: number = PAYMENT_WEBHOOK_CONFIG_DEFAULTS.toleranceSeconds;
  const tolerance = read('WEBHOOK_TOLERANCE_SECONDS');
  if (tolerance !== undefined) {
    toleranceSeconds = Number(tolerance);
    if (!/^\d+$/.test(tolerance) || !Number.isSafeInteger(toleranceSeconds) || toleranceSeconds <= 0) {
      throw new ConfigError('CONFIG_INVALID', `WEBHOOK_TOLERANCE_SECONDS must be a positive integer, got "${tolerance}"`);
    }
  }

  return { queueUrl, signingSecret, secretsManager: secretsManagerAccessFromEnv(env), toleranceSeconds, stripe: stripeEventSettingsFrom(env) };
}

function literalSecrets(value: string): string[] {
  try {
    return parseSigningSecrets(value, 'WEBHOOK_SIGNING_SECRET');
  } catch (error) {
    throw new ConfigError('CONFIG_INVALID', (error as Error).message, { cause: error });
  }
}
