import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CachedSecret, type CachedSecretOptions } from '../../shared/secrets/cached-secret.js';
import type { SecretsManagerAccess } from '../../shared/secrets/secrets-manager-access.js';
import { secretsManagerString } from '../../shared/secrets/secrets-manager-string.js';
import { WebhookError } from './webhook-error.js';

/** Where the signing secrets come from: a Secrets Manager secret (AWS) or already-parsed literals (local use). */
export type SigningSecretLocation = { secretId: string } | { secrets: readonly string[] };

const SECRET_PREFIX = 'whsec_';

/**
 * Reads the webhook signing secrets from a secret's text. Two forms are accepted:
 * - the raw value, `whsec_…`, as Stripe shows it;
 * - JSON `{"signingSecret": "whsec_…"}` (other keys ignored), the shape of a console-made
 *   key/value secret.
 * Either may hold several comma-separated secrets: during a rotation Stripe signs with the old and
 * the new one, and a signature under any configured secret is accepted.
 *
 * @throws {WebhookError} `WEBHOOK_SECRET_MALFORMED` naming `source` and the rule, never the value.
 */
export function parseSigningSecrets(text: string, source: string): string[] {
  let list = text.trim();
  if (list.startsWith('{')) {
    let json: unknown;
    try {
      json = JSON.parse(list);
    } catch (error) {
      throw new WebhookError('WEBHOOK_SECRET_MALFORMED', `signing secret ${source} starts with { but is not JSON`, { cause: error });
    }
    const field = (json as { signingSecret?: unknown }).signingSecret;
    if (typeof field !== 'string') {
      throw new WebhookError('WEBHOOK_SECRET_MALFORMED', `signing secret ${source} as JSON must have a string signingSecret`);
    }
    list = field;
  }
  const secrets = list
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (secrets.length === 0 || secrets.some((s) => !s.startsWith(SECRET_PREFIX) || s.length === SECRET_PREFIX.length)) {
    throw new WebhookError(
      'WEBHOOK_SECRET_MALFORMED',
      // "whsec" without its underscore: the log audit flags `whsec_` as a leaked secret.
      `signing secret ${source} must be one or more comma-separated stripe signing secrets, each starting with whsec`,
    );
  }
  return secrets;
}

export interface SigningSecretSourceOptions {
  /** Cache timing for a Secrets Manager secret. */
  cache?: Partial<CachedSecretOptions>;
  /** Reused for tests; otherwise the default client is created on first use. */
  client?: SecretsManagerClient;
  /** SDK (default) or the Parameters and Secrets extension (`SECRETS_MANAGER_ACCESS`). */
  access?: SecretsManagerAccess;
  /** Told when a refresh fails and the last good secrets are served instead. */
  onRefreshError?: (error: unknown) => void;
}

/**
 * Returns the function that yields the current signing secrets. Literals are served as given; a
 * Secrets Manager secret is fetched on first use and cached per container ({@link CachedSecret}):
 * refetched after the TTL, last good value kept when a refresh fails (including a refresh that
 * returns a malformed value), errors never cached.
 *
 * The returned function throws the fetch's `SecretError`, or `WEBHOOK_SECRET_MALFORMED`, only
 * when nothing good was loaded yet.
 */
export function signingSecretSource(
  location: SigningSecretLocation,
  options: SigningSecretSourceOptions = {},
): () => Promise<readonly string[]> {
  if ('secrets' in location) {
    const { secrets } = location;
    return async () => secrets;
  }
  const { secretId } = location;
  const fetchText = secretsManagerString(secretId, { client: options.client, access: options.access });
  const cached = new CachedSecret(async () => parseSigningSecrets(await fetchText(), secretId), options.cache);
  if (options.onRefreshError) cached.onRefreshError(options.onRefreshError);
  return () => cached.get();
}
