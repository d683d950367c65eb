import { describe, expect, it } from 'vitest';
import { entitlementsTableFromEnv, entitlementsWriteConcurrencyFromEnv } from '../../../shared/entitlements/index.js';
import { ConfigError } from '../../../shared/errors.js';

describe('entitlementsTableFromEnv', () => {
  it('reads ENTITLEMENTS_TABLE, trimmed', () => {
    // Assess
    expect(entitlementsTableFromEnv({ ENTITLEMENTS_TABLE: ' entitlements ' })).toBe('entitlements');
  });

  it.each([{ ENTITLEMENTS_TABLE: '' }, {}])('refuses %o, naming the key', (env) => {
    // Assess
    expect(() => entitlementsTableFromEnv(env)).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID', message: 'ENTITLEMENTS_TABLE must name the entitlements DynamoDB table, got ""' }),
    );
  });
});

describe('entitlementsWriteConcurrencyFromEnv', () => {
  it.each([
    { value: '50', expected: 50 },
    { value: ' 25 ', expected: 25 },
    { value: '1', expected: 1 },
  ])('reads ENTITLEMENTS_WRITE_CONCURRENCY=$value as $expected', ({ value, expected }) => {
    // Assess
    expect(entitlementsWriteConcurrencyFromEnv({ ENTITLEMENTS_WRITE_CONCURRENCY: value })).toBe(expected);
  });

  it.each([{}, { ENTITLEMENTS_WRITE_CONCURRENCY: '' }, { ENTITLEMENTS_WRITE_CONCURRENCY: '  ' }])(
    'leaves the store its default when unset or empty: %o',
    (env) => {
      // Assess
      expect(entitlementsWriteConcurrencyFromEnv(env)).toBeUndefined();
    },
  );

  it.each(['0', '-5', '2.5', 'ten', '1e2', '0x10', '50 writes', '99999999999999999999'])(
    'refuses %s with a ConfigError naming the key, the rule and the value',
    (value) => {
      // Act
      const read = () => entitlementsWriteConcurrencyFromEnv({ ENTITLEMENTS_WRITE_CONCURRENCY: value });

      // Assess
      expect(read).toThrow(ConfigError);
      expect(read).toThrow(
        expect.objectContaining({
          code: 'CONFIG_INVALID',
          message: `ENTITLEMENTS_WRITE_CONCURRENCY must be a positive integer, got ${JSON.stringify(value)}`,
        }),
      );
    },
  );
});
