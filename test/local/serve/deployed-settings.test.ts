import { describe, expect, it } from 'vitest';
import { APP_CONFIG_DEFAULTS } from '../../../cdk/config.js';
import { LocalSetupError } from '../local-dependencies.js';
import { deployedConfig, deployedVisibilityTimeoutSeconds, FUNCTION_SETTINGS, functionEnvironment } from './deployed-settings.js';
import { parseServeArgs, SERVE_DEFAULTS } from './serve-options.js';

describe('the deployed settings serve runs with', () => {
  it('are cdk.json\'s: the stack\'s timeouts, and its queue knobs (visibility 6 × 60 s + 1 s)', async () => {
    const config = await deployedConfig({});

    expect(FUNCTION_SETTINGS['get-user-info'](config)).toEqual({ timeoutSeconds: 10, memoryMb: 512 });
    expect([config.queueBatchSize, config.queueMaxBatchingWindowSeconds, config.queueMaxReceiveCount]).toEqual([
      APP_CONFIG_DEFAULTS.queueBatchSize,
      APP_CONFIG_DEFAULTS.queueMaxBatchingWindowSeconds,
      APP_CONFIG_DEFAULTS.queueMaxReceiveCount,
    ]);
    expect(deployedVisibilityTimeoutSeconds(config)).toBe(361);
  });

  it('take -c overrides as the CDK CLI does, and refuse a bad one in the app\'s own words', async () => {
    const config = await deployedConfig({ queueMaxReceiveCount: '2', queueBackoffEnabled: 'false', grantEntitlementsTimeoutSeconds: '5' });

    expect(config.queueMaxReceiveCount).toBe(2);
    expect(deployedVisibilityTimeoutSeconds(config)).toBe(31);
    await expect(deployedConfig({ queueBatchSize: 'ten' })).rejects.toThrow(LocalSetupError);
    await expect(deployedConfig({ queueBatchSize: 'ten' })).rejects.toThrow(/context queueBatchSize must be/);
  });

  it('give each function its Lambda variables, keeping a log level the user set', () => {
    expect(functionEnvironment('mesh-health', { POWERTOOLS_LOG_LEVEL: 'WARN' }, 256)).toMatchObject({
      AWS_LAMBDA_FUNCTION_NAME: 'mesh-health',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256',
      POWERTOOLS_SERVICE_NAME: 'mesh-health',
      POWERTOOLS_LOG_LEVEL: 'WARN',
    });
  });
});

describe('serve\'s command line', () => {
  it('defaults to ports 3000 and 3001 on loopback, PORT and LAMBDA_PORT override', () => {
    expect(parseServeArgs([], {})).toEqual({ help: false, options: { ...SERVE_DEFAULTS, context: {} } });
    expect(parseServeArgs([], { PORT: '8080', LAMBDA_PORT: '0' })).toMatchObject({ options: { port: 8080, lambdaPort: 0, host: '127.0.0.1' } });
  });

  it('reads its options and -c pairs', () => {
    const parsed = parseServeArgs(['--reset', '--mesh-health-every=5', '--visibility-timeout', '2', '--no-watch', '--log-level', 'debug', '-c', 'queueBatchSize=3'], {});

    expect(parsed).toMatchObject({ options: { reset: true, meshHealthEverySeconds: 5, visibilityTimeoutSeconds: 2, watch: false, logLevel: 'DEBUG', context: { queueBatchSize: '3' } } });
  });

  it('names the bad argument', () => {
    expect(() => parseServeArgs(['--port', '1'], {})).toThrow('unknown argument --port');
    expect(() => parseServeArgs([], { PORT: 'http' })).toThrow('PORT must be a port number (0-65535), got "http"');
    expect(() => parseServeArgs(['-c', 'nokey'], {})).toThrow('-c takes key=value, got "nokey"');
  });
});
