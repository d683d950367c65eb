import { IdentityError } from '../errors.js';
import { SecretError } from '../secrets/secret-error.js';
import { SECRETS_MANAGER_ACCESS_DEFAULTS } from '../secrets/secrets-manager-access.js';
import { sdkSecretValue, secretsManagerValue, type SecretsManagerValueOptions, type SecretValueAnswer } from '../secrets/secrets-manager-value.js';
import { IDENTITY_SOURCE_DEFAULTS } from './identity-source.js';
import { svidFromSpireSecret } from './spire-secret.js';
import type { SvidFetcher } from './svid-fetcher.js';
import type { SvidMaterial } from './svid-material.js';

export interface SecretsManagerSvidFetcherOptions extends SecretsManagerValueOptions {
  /** Milliseconds since the epoch: the clock SVIDs are checked against; injectable for tests. */
  now?: () => number;
  /**
   * How often the identity source asks again while the secret still holds the SVID it has (its
   * `minRefreshIntervalMs`): the margin kept on top of the extension's cache TTL.
   */
  pollIntervalMs?: number;
}

export const SECRETS_MANAGER_SVID_FETCHER_DEFAULTS = {
  now: Date.now,
  pollIntervalMs: IDENTITY_SOURCE_DEFAULTS.minRefreshIntervalMs,
} as const satisfies Required<Pick<SecretsManagerSvidFetcherOptions, 'now' | 'pollIntervalMs'>>;

/**
 * Fetches the function's SVID from the secret SPIRE's `aws_secretsmanager` SVIDStore keeps
 * current, through the SDK or the AWS Parameters and Secrets Lambda Extension
 * (`options.access`; see {@link secretsManagerValue}).
 *
 * The extension serves an answer from its cache for up to `SECRETS_MANAGER_TTL`, so it may hide a
 * rotation SPIRE already wrote. That is harmless while the SVID it returns outlives the cache TTL
 * plus one poll interval: a later poll sees the new one before the old one expires. An answer
 * closer to its expiry than that, or already expired, is read again through the SDK, so an SVID
 * from the extension is never less current than one from the API when it matters; should that
 * fresh read fail, a still-valid answer from the extension is kept.
 *
 * @throws {IdentityError} `IDENTITY_SECRET_NOT_FOUND`, `IDENTITY_SECRET_FETCH_FAILED`, or the codes
 *   of {@link svidFromSpireSecret}.
 */
export function secretsManagerSvidFetcher(secretId: string, options: SecretsManagerSvidFetcherOptions = {}): SvidFetcher {
  const access = options.access ?? SECRETS_MANAGER_ACCESS_DEFAULTS;
  const { now, pollIntervalMs } = { ...SECRETS_MANAGER_SVID_FETCHER_DEFAULTS, ...options };
  const read = secretsManagerValue(secretId, options);
  if (access.mode === 'sdk') {
    return async function fetchSvidFromSecretsManager() {
      return svidOf(await identityRead(read), secretId, now());
    };
  }
  const fresh = sdkSecretValue(secretId, options.client);
  const trustedForMs = access.extensionCacheTtlSeconds * 1000 + pollIntervalMs;
  return async function fetchSvidThroughExtension() {
    const at = now();
    let cached: SvidMaterial | undefined;
    try {
      cached = svidOf(await identityRead(read), secretId, at);
    } catch (error) {
      // An expired SVID from the cache says nothing about the secret now: ask Secrets Manager.
      if (!(error instanceof IdentityError && error.code === 'IDENTITY_EXPIRED')) throw error;
    }
    if (cached && cached.svid.notAfter.getTime() - at > trustedForMs) return cached;
    try {
      return svidOf(await identityRead(fresh), secretId, at);
    } catch (error) {
      if (cached) return cached;
      throw error;
    }
  };
}

/** One read, its {@link SecretError} turned into the identity layer's codes. */
async function identityRead(read: () => Promise<SecretValueAnswer>): Promise<SecretValueAnswer> {
  try {
    return await read();
  } catch (error) {
    if (!(error instanceof SecretError)) throw error;
    const code = error.code === 'SECRET_NOT_FOUND' ? 'IDENTITY_SECRET_NOT_FOUND' : 'IDENTITY_SECRET_FETCH_FAILED';
    throw new IdentityError(code, error.message, { cause: error.cause ?? error });
  }
}

function svidOf(answer: SecretValueAnswer, secretId: string, at: number): SvidMaterial {
  return svidFromSpireSecret(answer, secretId, new Date(at));
}
