import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createMeshLogger } from '../../../shared/observability/mesh-logger.js';
import { logStaleDiscovery, staleDiscoveryReporter } from '../../../shared/observability/stale-discovery.js';
import type { StaleEvent } from '../../../shared/discovery/service-discovery.js';
import { captureOutput, type CapturedOutput, stubPowertoolsDefaults } from '../../fixtures/capture-output.js';

let output: CapturedOutput;

beforeEach(() => {
  stubPowertoolsDefaults();
  vi.stubEnv('POWERTOOLS_SERVICE_NAME', undefined);
  output = captureOutput();
});
afterEach(() => {
  output.restore();
  vi.unstubAllEnvs();
});

describe('createMeshLogger', () => {
  it('names lines after the function family unless POWERTOOLS_SERVICE_NAME says otherwise', () => {
    createMeshLogger().info('a');
    vi.stubEnv('POWERTOOLS_SERVICE_NAME', 'grant-entitlements');
    createMeshLogger().info('b');

    expect(output.logs().map((line) => line.service)).toEqual(['payment-functions', 'grant-entitlements']);
  });

  it.each([
    ['POWERTOOLS_LOG_LEVEL', 'WARN'],
    ['LOG_LEVEL', 'ERROR'],
  ])('takes its level from %s as Powertools does', (variable, level) => {
    vi.stubEnv(variable, level);
    const logger = createMeshLogger();

    logger.info('dropped');
    logger.error('kept');

    expect(output.logs().map((line) => line.message)).toEqual(['kept']);
    expect(logger.getLevelName()).toBe(level);
  });

  it('scrubs what a child logger writes as well', () => {
    const child = createMeshLogger().createChild({ persistentKeys: { handler: 'payment-webhook' } });

    child.info('webhook received', { headers: { 'Stripe-Signature': 't=1,v1=5257a869e7ecebeda32affa62cdca3fa' } });

    expect(output.logs()).toEqual([expect.objectContaining({ handler: 'payment-webhook', headers: { 'Stripe-Signature': '[REDACTED]' } })]);
  });

  it('scrubs a formatted error, its cause chain and its own properties', () => {
    const cause = Object.assign(new Error('upstream said whsec_abc123'), { secret: 'whsec_abc123' });
    const error = Object.assign(new Error('wrapped', { cause }), { code: 'X_FAILED' });

    createMeshLogger().error('failed', error);

    const [line] = output.logs();
    expect(line!.error).toMatchObject({ message: 'wrapped', code: 'X_FAILED', cause: { message: 'upstream said [REDACTED WEBHOOK SECRET]', secret: '[REDACTED]' } });
  });
});

describe('logStaleDiscovery', () => {
  it('warns with the service, the age of the served result and why each source failed', () => {
    const logger = createMeshLogger();
    const event: StaleEvent = {
      service: 'contact-service',
      ageMs: 42_000.4,
      resolution: { service: 'contact-service', addresses: [{ host: '10.0.0.7', port: 50051 }], source: 'cloudmap', resolvedAt: 0, expiresAt: 5_000, stale: true },
      failures: [
        { source: 'cloudmap', code: 'DISCOVERY_THROTTLED', message: 'RequestLimitExceeded' },
        { source: 'dns', code: 'DISCOVERY_NO_INSTANCES', message: 'no SRV record' },
      ],
    };

    staleDiscoveryReporter(logger)(event);
    logStaleDiscovery(logger, event);

    const lines = output.logs();
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({
      level: 'WARN',
      message: 'serving stale discovery result',
      meshService: 'contact-service',
      ageMs: 42_000,
      servedFrom: 'cloudmap',
      addresses: 1,
      failures: [
        { source: 'cloudmap', code: 'DISCOVERY_THROTTLED', message: 'RequestLimitExceeded' },
        { source: 'dns', code: 'DISCOVERY_NO_INSTANCES', message: 'no SRV record' },
      ],
    });
  });
});
