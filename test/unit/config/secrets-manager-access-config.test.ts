import { describe, expect, it } from 'vitest';
import { loadMeshConfig } from '../../../shared/config/load-mesh-config.js';
import { secretsManagerAccessFromEnv } from '../../../shared/config/secrets-manager-access-config.js';
import { ConfigError } from '../../../shared/errors.js';
import { SECRETS_MANAGER_ACCESS_DEFAULTS } from '../../../shared/secrets/secrets-manager-access.js';

/** The ConfigError `read(env)` throws; fails the test when it throws none. */
function configError(read: () => unknown): ConfigError {
  try {
    read();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('secretsManagerAccessFromEnv', () => {
  it('reads secrets through the SDK when nothing is set, or the values are empty', () => {
    expect(secretsManagerAccessFromEnv({})).toEqual(SECRETS_MANAGER_ACCESS_DEFAULTS);
    expect(secretsManagerAccessFromEnv({ SECRETS_MANAGER_ACCESS: ' ', SECRETS_MANAGER_TTL: '' })).toEqual({
      mode: 'sdk',
      extensionPort: 2773,
      extensionCacheTtlSeconds: 300,
    });
  });

  it('reads the extension with the port and cache TTL the extension itself is given', () => {
    expect(
      secretsManagerAccessFromEnv({ SECRETS_MANAGER_ACCESS: 'Extension', PARAMETERS_SECRETS_EXTENSION_HTTP_PORT: '2800', SECRETS_MANAGER_TTL: '0' }),
    ).toEqual({ mode: 'extension', extensionPort: 2800, extensionCacheTtlSeconds: 0 });
  });

  it.each([
    [{ SECRETS_MANAGER_ACCESS: 'layer' }, 'SECRETS_MANAGER_ACCESS must be one of sdk, extension, got "layer"'],
    [{ PARAMETERS_SECRETS_EXTENSION_HTTP_PORT: '70000' }, 'PARAMETERS_SECRETS_EXTENSION_HTTP_PORT must be a port number from 1 to 65535, got "70000"'],
    [{ PARAMETERS_SECRETS_EXTENSION_HTTP_PORT: 'http' }, 'PARAMETERS_SECRETS_EXTENSION_HTTP_PORT must be a port number from 1 to 65535, got "http"'],
    [{ SECRETS_MANAGER_TTL: '301' }, 'SECRETS_MANAGER_TTL must be a whole number of seconds from 0 to 300, got "301"'],
    [{ SECRETS_MANAGER_TTL: '5m' }, 'SECRETS_MANAGER_TTL must be a whole number of seconds from 0 to 300, got "5m"'],
  ])('rejects %o naming the variable, the rule and the value', (env, message) => {
    const error = configError(() => secretsManagerAccessFromEnv(env));
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toBe(`invalid configuration: ${message}`);
  });
});

describe('loadMeshConfig and SECRETS_MANAGER_ACCESS', () => {
  it('leaves the access unset (the SDK) when no variable names it', () => {
    expect(loadMeshConfig({ SVID_SECRET_ID: 'spire-svid' }).secretsManager).toBeUndefined();
  });

  it('reads the SVID through the extension when configured', () => {
    const config = loadMeshConfig({ SVID_SECRET_ID: 'spire-svid', SECRETS_MANAGER_ACCESS: 'extension', SECRETS_MANAGER_TTL: '120' });
    expect(config.secretsManager).toEqual({ mode: 'extension', extensionPort: 2773, extensionCacheTtlSeconds: 120 });
  });

  it('lists a bad SECRETS_MANAGER_ACCESS with the other invalid values, each with its value', () => {
    const error = configError(() => loadMeshConfig({ SECRETS_MANAGER_ACCESS: 'both', SERVICE_MESH_DISCOVERY_TTL_SECONDS: 'x' }));
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toContain('SECRETS_MANAGER_ACCESS must be one of sdk, extension, got "both"');
    expect(error.message).toContain('SERVICE_MESH_DISCOVERY_TTL_SECONDS must be a positive integer, got "x"');
  });
});
