import { ConfigError } from '../../shared/errors.js';

/** How records whose service is unavailable wait in the queue (`QUEUE_BACKOFF_*`). */
export interface QueueBackoffOptions {
  /** False restores the queue's fixed visibility timeout for every failure (today's design). */
  enabled: boolean;
  /** The wait after the first failed receive; doubled per receive. */
  baseSeconds: number;
  /** The longest wait; SQS allows at most 12 hours. */
  maxSeconds: number;
}

export const QUEUE_BACKOFF_DEFAULTS: Readonly<QueueBackoffOptions> = Object.freeze({ enabled: true, baseSeconds: 60, maxSeconds: 43_200 });

/** SQS's own limit on a message's visibility timeout. */
export const MAX_VISIBILITY_SECONDS = 43_200;

/** The jitter: each wait is its nominal value times a factor drawn from [0.75, 1.25), then capped. */
const JITTER_LOW = 0.75;
const JITTER_SPAN = 0.5;

/**
 * The visibility timeout, in whole seconds, for a record that failed on its `receiveCount`-th
 * receive: `baseSeconds × 2^(receiveCount − 1)` with ±25 % jitter, at most `maxSeconds`. The
 * jitter spreads records that failed together, so they do not all return at the same instant.
 */
export function backoffSeconds(receiveCount: number, options: Pick<QueueBackoffOptions, 'baseSeconds' | 'maxSeconds'>, random: () => number = Math.random): number {
  const exponent = Number.isFinite(receiveCount) ? Math.max(0, Math.floor(receiveCount) - 1) : 0;
  const nominal = options.baseSeconds * 2 ** Math.min(exponent, 40);
  return Math.min(options.maxSeconds, Math.max(1, Math.round(nominal * (JITTER_LOW + JITTER_SPAN * random()))));
}

/**
 * The shortest time a record can spend in the queue over `maxReceiveCount` receives that all
 * fail with its service unavailable (every jitter at its lowest): how long an outage may last
 * before anything is dead-lettered.
 */
export function minimumScheduleSpanSeconds(maxReceiveCount: number, options: Pick<QueueBackoffOptions, 'baseSeconds' | 'maxSeconds'>): number {
  let total = 0;
  for (let receive = 1; receive <= maxReceiveCount; receive += 1) total += backoffSeconds(receive, options, () => 0);
  return total;
}

/**
 * Reads `QUEUE_BACKOFF_ENABLED`, `QUEUE_BACKOFF_BASE_SECONDS` and `QUEUE_BACKOFF_MAX_SECONDS`;
 * unset or empty values take {@link QUEUE_BACKOFF_DEFAULTS}.
 *
 * @throws {ConfigError} `CONFIG_INVALID` naming the key and the value when one is invalid.
 */
export function queueBackoffFromEnv(env: NodeJS.ProcessEnv = process.env): QueueBackoffOptions {
  const enabled = booleanOf(env, 'QUEUE_BACKOFF_ENABLED') ?? QUEUE_BACKOFF_DEFAULTS.enabled;
  const baseSeconds = secondsOf(env, 'QUEUE_BACKOFF_BASE_SECONDS') ?? QUEUE_BACKOFF_DEFAULTS.baseSeconds;
  const maxSeconds = secondsOf(env, 'QUEUE_BACKOFF_MAX_SECONDS') ?? QUEUE_BACKOFF_DEFAULTS.maxSeconds;
  if (maxSeconds < baseSeconds) {
    throw new ConfigError('CONFIG_INVALID', `QUEUE_BACKOFF_MAX_SECONDS must be at least QUEUE_BACKOFF_BASE_SECONDS (${baseSeconds}), got "${maxSeconds}"`);
  }
  return { enabled, baseSeconds, maxSeconds };
}

function booleanOf(env: NodeJS.ProcessEnv, key: string): boolean | undefined {
  const raw = env[key];
  const value = raw?.trim().toLowerCase();
  if (!value) return undefined;
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new ConfigError('CONFIG_INVALID', `${key} must be true, false, 1 or 0, got ${JSON.stringify(raw)}`);
}

function secondsOf(env: NodeJS.ProcessEnv, key: string): number | undefined {
  const raw = env[key];
  const value = raw?.trim();
  if (!value) return undefined;
  const seconds = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(seconds) || seconds < 1 || seconds > MAX_VISIBILITY_SECONDS) {
    throw new ConfigError('CONFIG_INVALID', `${key} must be a whole number of seconds from 1 to ${MAX_VISIBILITY_SECONDS}, got ${JSON.stringify(raw)}`);
  }
  return seconds;
}
