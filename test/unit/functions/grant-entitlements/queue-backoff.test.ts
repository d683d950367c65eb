import { describe, expect, it } from 'vitest';
import {
  backoffSeconds,
  minimumScheduleSpanSeconds,
  QUEUE_BACKOFF_DEFAULTS,
  queueBackoffFromEnv,
} from '../../../../functions/grant-entitlements/queue-backoff.js';
import { ConfigError } from '../../../../shared/errors.js';

const DAY = 86_400;
const middle = () => 0.5;

describe('backoffSeconds', () => {
  it('doubles the wait with every receive, starting from the base', () => {
    const waits = [1, 2, 3, 4, 5].map((receive) => backoffSeconds(receive, QUEUE_BACKOFF_DEFAULTS, middle));
    expect(waits).toEqual([60, 120, 240, 480, 960]);
  });

  it('jitters each wait within ±25 % so records that failed together return apart', () => {
    expect(backoffSeconds(3, QUEUE_BACKOFF_DEFAULTS, () => 0)).toBe(180);
    expect(backoffSeconds(3, QUEUE_BACKOFF_DEFAULTS, () => 0.999_999)).toBe(300);
  });

  it('never waits longer than the maximum, which SQS caps at 12 hours', () => {
    expect(backoffSeconds(11, QUEUE_BACKOFF_DEFAULTS, () => 0.999_999)).toBe(43_200);
    expect(backoffSeconds(1_000, QUEUE_BACKOFF_DEFAULTS, middle)).toBe(43_200);
    expect(backoffSeconds(4, { baseSeconds: 60, maxSeconds: 300 }, middle)).toBe(300);
  });

  it('treats a missing or nonsensical receive count as the first receive', () => {
    expect(backoffSeconds(0, QUEUE_BACKOFF_DEFAULTS, middle)).toBe(60);
    expect(backoffSeconds(Number.NaN, QUEUE_BACKOFF_DEFAULTS, middle)).toBe(60);
  });
});

describe('the default schedule', () => {
  it('spreads the default 12 receives over at least 24 hours even with every jitter at its lowest', () => {
    expect(minimumScheduleSpanSeconds(12, QUEUE_BACKOFF_DEFAULTS)).toBeGreaterThanOrEqual(DAY);
  });

  it('could not with the old 5 receives: the stack raised maxReceiveCount for it', () => {
    expect(minimumScheduleSpanSeconds(5, QUEUE_BACKOFF_DEFAULTS)).toBeLessThan(DAY);
  });

  it('keeps the first waits short, so records caught by a short outage return within minutes', () => {
    expect(minimumScheduleSpanSeconds(3, QUEUE_BACKOFF_DEFAULTS)).toBeLessThanOrEqual(6 * 60);
  });
});

describe('queueBackoffFromEnv', () => {
  it('is on with a 60 s base and a 12 h maximum by default', () => {
    expect(queueBackoffFromEnv({})).toEqual({ enabled: true, baseSeconds: 60, maxSeconds: 43_200 });
  });

  it('reads every setting, and QUEUE_BACKOFF_ENABLED=false switches backoff off', () => {
    expect(queueBackoffFromEnv({ QUEUE_BACKOFF_ENABLED: 'false', QUEUE_BACKOFF_BASE_SECONDS: '30', QUEUE_BACKOFF_MAX_SECONDS: ' 600 ' })).toEqual({
      enabled: false,
      baseSeconds: 30,
      maxSeconds: 600,
    });
  });

  it.each([
    [{ QUEUE_BACKOFF_ENABLED: 'off' }, 'QUEUE_BACKOFF_ENABLED must be true, false, 1 or 0, got "off"'],
    [{ QUEUE_BACKOFF_BASE_SECONDS: '1.5' }, 'QUEUE_BACKOFF_BASE_SECONDS must be a whole number of seconds from 1 to 43200, got "1.5"'],
    [{ QUEUE_BACKOFF_MAX_SECONDS: '86400' }, 'QUEUE_BACKOFF_MAX_SECONDS must be a whole number of seconds from 1 to 43200, got "86400"'],
    [{ QUEUE_BACKOFF_BASE_SECONDS: '600', QUEUE_BACKOFF_MAX_SECONDS: '60' }, 'QUEUE_BACKOFF_MAX_SECONDS must be at least QUEUE_BACKOFF_BASE_SECONDS (600), got "60"'],
  ])('rejects %o naming the key and the value', (env, message) => {
    expect(() => queueBackoffFromEnv(env)).toThrow(new ConfigError('CONFIG_INVALID', message));
    expect(() => queueBackoffFromEnv(env)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });
});
