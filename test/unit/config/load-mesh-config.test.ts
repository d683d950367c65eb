import { describe, expect, it, vi } from 'vitest';
import { MESH_DEFAULTS, loadMeshConfig, type MeshConfig, type ServiceConfig } from '../../../shared/config/index.js';
import { ConfigError } from '../../../shared/errors.js';
import { parseSpiffeId } from '../../../shared/spiffe/spiffe-id.js';

const OWN_ID = 'spiffe://jia.app/payment-functions';

/** The ConfigError `loadMeshConfig(env)` throws; fails the test when it does not throw one. */
function configError(env: NodeJS.ProcessEnv): ConfigError {
  try {
    loadMeshConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected loadMeshConfig to throw a ConfigError');
}

/** The issues one error lists, each `<key> <rule>, got <value>`. */
function issuesOf(error: ConfigError): string[] {
  return error.message.replace(/^invalid configuration: /, '').split('; ');
}

function service(config: MeshConfig, name: string): ServiceConfig {
  const found = config.services[name];
  if (found === undefined) throw new Error(`no service ${name} in ${Object.keys(config.services).join(', ')}`);
  return found;
}

/** True when the service's matcher accepts `id`; false when it rejects it as not allowed. */
function accepts(svc: ServiceConfig, id: string): boolean {
  try {
    svc.authorize(parseSpiffeId(id));
    return true;
  } catch (error) {
    expect(error).toMatchObject({ code: 'SPIFFE_ID_NOT_ALLOWED' });
    return false;
  }
}

describe('loadMeshConfig defaults', () => {
  it('applies every default to an empty environment', () => {
    expect(loadMeshConfig({})).toEqual({
      enabled: true,
      mtlsEnabled: true,
      discovery: { scheme: 'cloudmap', dnsFirst: false, order: ['cloudmap', 'dns', 'static'], dnsServers: [], ttlSeconds: 30 },
      svid: {},
      circuitBreaker: { failureThreshold: 5, successThreshold: 2, timeoutSeconds: 60, halfOpenMaxCalls: 3 },
      services: {},
    });
  });

  it('gives a service the default timeout, bulkhead, breaker and name', () => {
    const config = loadMeshConfig({ SERVICE_MESH_SPIFFE_ID: OWN_ID, EXTERNAL_SERVICES_CONTACT_SERVICE_ADDRESS: 'h:1' });
    const contact = service(config, 'contact-service');
    expect(contact).toMatchObject({
      key: 'CONTACT_SERVICE',
      name: 'contact-service',
      spiffeId: 'spiffe://jia.app/contact-service',
      timeoutSeconds: MESH_DEFAULTS.service.timeoutSeconds,
      maxConcurrentCalls: MESH_DEFAULTS.service.maxConcurrentCalls,
      circuitBreaker: MESH_DEFAULTS.circuitBreaker,
    });
  });

  it('treats empty variables as unset', () => {
    expect(loadMeshConfig({ SERVICE_MESH_ENABLED: '', SERVICE_MESH_DISCOVERY_SCHEME: '  ' })).toEqual(loadMeshConfig({}));
  });

  it('reads process.env when no environment is given', () => {
    vi.stubEnv('SERVICE_MESH_DISCOVERY_SCHEME', 'static');
    try {
      expect(loadMeshConfig().discovery.scheme).toBe('static');
    } finally {
      vi.unstubAllEnvs();
    }
  });
});

describe('loadMeshConfig from the environment', () => {
  it('reads every function-wide variable', () => {
    const config = loadMeshConfig({
      SERVICE_MESH_ENABLED: 'FALSE',
      SERVICE_MESH_SPIFFE_ID: OWN_ID,
      SERVICE_MESH_DISCOVERY_NAMESPACE: 'mesh.local',
      SERVICE_MESH_DISCOVERY_SCHEME: 'DNS',
      SERVICE_MESH_DISCOVERY_DNS_SERVERS: '127.0.0.1:5353, ::1, [::1]:53',
      SERVICE_MESH_DISCOVERY_TTL_SECONDS: '15',
      MTLS_ENABLED: '0',
      SVID_SECRET_ID: 'payment-functions-svid',
      SVID_DIR: '/var/run/svid',
      CIRCUIT_BREAKER_FAILURE_THRESHOLD: '7',
      CIRCUIT_BREAKER_SUCCESS_THRESHOLD: '1',
      CIRCUIT_BREAKER_TIMEOUT_SECONDS: '2.5',
      CIRCUIT_BREAKER_HALF_OPEN_MAX_CALLS: '4',
      UNRELATED_VARIABLE: 'ignored',
    });
    expect(config).toEqual({
      enabled: false,
      spiffeId: parseSpiffeId(OWN_ID),
      mtlsEnabled: false,
      discovery: {
        namespace: 'mesh.local',
        scheme: 'dns',
        dnsFirst: false,
        order: ['dns', 'static'],
        dnsServers: ['127.0.0.1:5353', '::1', '[::1]:53'],
        ttlSeconds: 15,
      },
      svid: { secretId: 'payment-functions-svid', dir: '/var/run/svid' },
      circuitBreaker: { failureThreshold: 7, successThreshold: 1, timeoutSeconds: 2.5, halfOpenMaxCalls: 4 },
      services: {},
    });
  });

  it.each([
    ['true', true],
    ['TRUE', true],
    ['1', true],
    ['false', false],
    ['False', false],
    ['0', false],
  ])('reads the boolean %j as %j', (text, expected) => {
    expect(loadMeshConfig({ MTLS_ENABLED: text }).mtlsEnabled).toBe(expected);
  });

  it.each([
    ['cloudmap', ['cloudmap', 'dns', 'static']],
    ['dns', ['dns', 'static']],
    ['static', ['static']],
    ['xds', ['xds', 'cloudmap', 'dns', 'static']],
  ])('orders discovery for scheme %s as %j', (scheme, order) => {
    expect(loadMeshConfig({ SERVICE_MESH_DISCOVERY_SCHEME: scheme }).discovery.order).toEqual(order);
  });

  it('asks DNS before the Cloud Map API when SERVICE_MESH_DISCOVERY_DNS_FIRST is set with scheme cloudmap', () => {
    const discovery = loadMeshConfig({ SERVICE_MESH_DISCOVERY_NAMESPACE: 'mesh.local', SERVICE_MESH_DISCOVERY_DNS_FIRST: 'true' }).discovery;

    expect(discovery).toMatchObject({ scheme: 'cloudmap', dnsFirst: true, order: ['dns', 'cloudmap', 'static'] });
  });

  it('keeps Cloud Map first when SERVICE_MESH_DISCOVERY_DNS_FIRST is false or unset', () => {
    expect(loadMeshConfig({ SERVICE_MESH_DISCOVERY_DNS_FIRST: 'false' }).discovery.order).toEqual(['cloudmap', 'dns', 'static']);
    expect(loadMeshConfig({}).discovery.dnsFirst).toBe(false);
  });

  it.each([
    ['dns', 'must be false unless SERVICE_MESH_DISCOVERY_SCHEME is cloudmap', 'got "1" with scheme "dns"'],
    ['static', 'must be false unless SERVICE_MESH_DISCOVERY_SCHEME is cloudmap', 'got "1" with scheme "static"'],
    ['xds', 'must be false unless SERVICE_MESH_DISCOVERY_SCHEME is cloudmap', 'got "1" with scheme "xds"'],
  ])('refuses SERVICE_MESH_DISCOVERY_DNS_FIRST with scheme %s', (scheme, rule, got) => {
    const error = configError({ SERVICE_MESH_DISCOVERY_NAMESPACE: 'mesh.local', SERVICE_MESH_DISCOVERY_SCHEME: scheme, SERVICE_MESH_DISCOVERY_DNS_FIRST: '1' });

    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toContain(`SERVICE_MESH_DISCOVERY_DNS_FIRST ${rule}`);
    expect(error.message).toContain(got);
  });

  it('refuses SERVICE_MESH_DISCOVERY_DNS_FIRST without a namespace to look names up in', () => {
    const error = configError({ SERVICE_MESH_DISCOVERY_DNS_FIRST: 'true' });

    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toContain('SERVICE_MESH_DISCOVERY_DNS_FIRST must be false unless SERVICE_MESH_DISCOVERY_NAMESPACE names the cloud map dns namespace');
  });

  it('discovers any number of services, keys with underscores included', () => {
    const config = loadMeshConfig({
      SERVICE_MESH_SPIFFE_ID: OWN_ID,
      EXTERNAL_SERVICES_CONTACT_SERVICE_ADDRESS: '127.0.0.1:50051',
      EXTERNAL_SERVICES_CONTACT_SERVICE_TIMEOUT_SECONDS: '0.5',
      EXTERNAL_SERVICES_CONTACT_SERVICE_MAX_CONCURRENT_CALLS: '4',
      EXTERNAL_SERVICES_LEDGER_NAME: 'ledger-v2',
      EXTERNAL_SERVICES_LEDGER_ADDRESS: '[::1]:8443',
      EXTERNAL_SERVICES_LEDGER_SPIFFE_ID: 'spiffe://bank.example/ledger',
      EXTERNAL_SERVICES_A_B_C_TIMEOUT_SECONDS: '3',
    });
    expect(Object.keys(config.services).sort()).toEqual(['a-b-c', 'contact-service', 'ledger-v2']);
    expect(service(config, 'contact-service')).toMatchObject({
      address: { host: '127.0.0.1', port: 50051 },
      timeoutSeconds: 0.5,
      maxConcurrentCalls: 4,
    });
    expect(service(config, 'ledger-v2')).toMatchObject({
      key: 'LEDGER',
      address: { host: '::1', port: 8443 },
      spiffeId: 'spiffe://bank.example/ledger',
    });
    expect(service(config, 'a-b-c')).toMatchObject({ key: 'A_B_C', spiffeId: 'spiffe://jia.app/a-b-c' });
    expect(service(config, 'a-b-c').address).toBeUndefined();
  });

  it('overrides the circuit breaker per service, keeping the function-wide values for the rest', () => {
    const config = loadMeshConfig({
      SERVICE_MESH_SPIFFE_ID: OWN_ID,
      CIRCUIT_BREAKER_FAILURE_THRESHOLD: '9',
      EXTERNAL_SERVICES_CONTACT_SERVICE_CIRCUIT_BREAKER_TIMEOUT_SECONDS: '30',
      EXTERNAL_SERVICES_CONTACT_SERVICE_CIRCUIT_BREAKER_HALF_OPEN_MAX_CALLS: '1',
    });
    expect(service(config, 'contact-service').circuitBreaker).toEqual({
      failureThreshold: 9,
      successThreshold: 2,
      timeoutSeconds: 30,
      halfOpenMaxCalls: 1,
    });
    expect(service(config, 'contact-service').timeoutSeconds).toBe(10);
  });
});

describe('service SPIFFE ID matchers', () => {
  const load = (spiffeId: string) =>
    service(loadMeshConfig({ EXTERNAL_SERVICES_CONTACT_SERVICE_SPIFFE_ID: spiffeId }), 'contact-service');

  it.each([
    ['one ID', 'spiffe://jia.app/contact-service', 'spiffe://jia.app/contact-service', true],
    ['one ID', 'spiffe://jia.app/contact-service', 'spiffe://jia.app/other', false],
    ['one ID', 'spiffe://jia.app/contact-service', 'spiffe://evil.app/contact-service', false],
    ['one of', 'spiffe://jia.app/a, spiffe://jia.app/b', 'spiffe://jia.app/b', true],
    ['one of', 'spiffe://jia.app/a, spiffe://jia.app/b', 'spiffe://jia.app/a', true],
    ['one of', 'spiffe://jia.app/a, spiffe://jia.app/b', 'spiffe://jia.app/c', false],
    ['member of', 'spiffe://jia.app', 'spiffe://jia.app/anything/at/all', true],
    ['member of', 'spiffe://jia.app', 'spiffe://jia.app', true],
    ['member of', 'spiffe://jia.app', 'spiffe://jia.apps/x', false],
  ])('%s %s: %s accepted is %s', (_kind, configured, peer, expected) => {
    expect(accepts(load(configured), peer)).toBe(expected);
  });

  it('keeps the configured IDs as text', () => {
    expect(load('spiffe://jia.app/a,spiffe://jia.app/b').spiffeId).toBe('spiffe://jia.app/a,spiffe://jia.app/b');
  });

  it('defaults to the service name in our own trust domain', () => {
    const config = loadMeshConfig({ SERVICE_MESH_SPIFFE_ID: OWN_ID, EXTERNAL_SERVICES_CONTACT_SERVICE_NAME: 'contacts' });
    const contact = service(config, 'contacts');
    expect(contact.spiffeId).toBe('spiffe://jia.app/contacts');
    expect(accepts(contact, 'spiffe://jia.app/contacts')).toBe(true);
    expect(accepts(contact, 'spiffe://jia.app/contact-service')).toBe(false);
  });
});

describe('loadMeshConfig rejects bad values', () => {
  it.each([
    ['SERVICE_MESH_ENABLED', 'yes', 'must be true, false, 1 or 0'],
    ['MTLS_ENABLED', '2', 'must be true, false, 1 or 0'],
    ['SERVICE_MESH_SPIFFE_ID', 'http://jia.app/x', 'must be a SPIFFE ID (scheme is missing or invalid)'],
    ['SERVICE_MESH_SPIFFE_ID', 'spiffe://jia.app/x/', 'must be a SPIFFE ID (path cannot have a trailing slash)'],
    ['SERVICE_MESH_DISCOVERY_SCHEME', 'consul', 'must be one of cloudmap, dns, static, xds'],
    ['SERVICE_MESH_DISCOVERY_DNS_SERVERS', '127.0.0.1,dns.google', 'must be a comma-separated list of ip'],
    ['SERVICE_MESH_DISCOVERY_TTL_SECONDS', '0', 'must be a positive integer'],
    ['SERVICE_MESH_DISCOVERY_DNS_FIRST', 'dns', 'must be true, false, 1 or 0'],
    ['SERVICE_MESH_DISCOVERY_TTL_SECONDS', '1.5', 'must be a positive integer'],
    ['CIRCUIT_BREAKER_FAILURE_THRESHOLD', '-1', 'must be a positive integer'],
    ['CIRCUIT_BREAKER_TIMEOUT_SECONDS', 'soon', 'must be a positive number'],
    ['EXTERNAL_SERVICES_CONTACT_SERVICE_TIMEOUT_SECONDS', 'ten', 'must be a positive number'],
    ['EXTERNAL_SERVICES_CONTACT_SERVICE_TIMEOUT_SECONDS', '0', 'must be a positive number'],
    ['EXTERNAL_SERVICES_CONTACT_SERVICE_MAX_CONCURRENT_CALLS', '2.5', 'must be a positive integer'],
    ['EXTERNAL_SERVICES_CONTACT_SERVICE_CIRCUIT_BREAKER_SUCCESS_THRESHOLD', 'x', 'must be a positive integer'],
    ['EXTERNAL_SERVICES_CONTACT_SERVICE_ADDRESS', 'localhost', 'must be host:port or [ipv6]:port'],
    ['EXTERNAL_SERVICES_CONTACT_SERVICE_ADDRESS', 'localhost:0', 'with a port of 1..65535'],
    ['EXTERNAL_SERVICES_CONTACT_SERVICE_ADDRESS', 'localhost:65536', 'with a port of 1..65535'],
    ['EXTERNAL_SERVICES_CONTACT_SERVICE_ADDRESS', '::1:50051', 'must be host:port or [ipv6]:port'],
    ['EXTERNAL_SERVICES_CONTACT_SERVICE_ADDRESS', '[nope]:50051', 'must be host:port or [ipv6]:port'],
    ['EXTERNAL_SERVICES_CONTACT_SERVICE_NAME', 'contact service', 'must be a service name'],
    ['EXTERNAL_SERVICES_CONTACT_SERVICE_SPIFFE_ID', '*', 'the wildcard * is not allowed'],
    ['EXTERNAL_SERVICES_CONTACT_SERVICE_SPIFFE_ID', 'spiffe://jia.app/a,*', 'the wildcard * is not allowed'],
    ['EXTERNAL_SERVICES_CONTACT_SERVICE_SPIFFE_ID', 'spiffe://Jia.app/a', 'trust domain characters are limited'],
    ['EXTERNAL_SERVICES_CONTACT_SERVICE_SPIFFE_ID', ',', 'at least one SPIFFE ID is required'],
    [
      'EXTERNAL_SERVICES_CONTACT_SERVICE_SPIFFE_ID',
      'spiffe://jia.app,spiffe://jia.app/a',
      'a trust domain ID cannot be combined with other IDs',
    ],
  ])('%s=%j fails naming the key and the value', (key, value, rule) => {
    const error = configError({ SERVICE_MESH_SPIFFE_ID: OWN_ID, [key]: value });
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toMatch(/^invalid configuration: /);
    const issue = issuesOf(error).find((i) => i.startsWith(`${key} must be `));
    expect(issue).toContain(rule);
    expect(issue?.endsWith(`, got ${JSON.stringify(value)}`)).toBe(true);
  });

  it('reads the documented example as stated', () => {
    const error = configError({ EXTERNAL_SERVICES_CONTACT_SERVICE_TIMEOUT_SECONDS: 'ten' });
    expect(error.message).toBe(
      'invalid configuration: EXTERNAL_SERVICES_CONTACT_SERVICE_TIMEOUT_SECONDS must be a positive number, got "ten"',
    );
  });

  it('reports every bad value in one error', () => {
    const error = configError({
      MTLS_ENABLED: 'maybe',
      SERVICE_MESH_DISCOVERY_TTL_SECONDS: 'x',
      EXTERNAL_SERVICES_CONTACT_SERVICE_ADDRESS: 'nope',
      EXTERNAL_SERVICES_LEDGER_TIMEOUT_SECONDS: '-3',
    });
    expect(issuesOf(error)).toEqual([
      'SERVICE_MESH_DISCOVERY_TTL_SECONDS must be a positive integer, got "x"',
      'MTLS_ENABLED must be true, false, 1 or 0, got "maybe"',
      'EXTERNAL_SERVICES_CONTACT_SERVICE_ADDRESS must be host:port or [ipv6]:port with a port of 1..65535, got "nope"',
      'EXTERNAL_SERVICES_LEDGER_TIMEOUT_SECONDS must be a positive number, got "-3"',
    ]);
  });

  it('requires a service SPIFFE ID when our own is unknown', () => {
    const error = configError({ EXTERNAL_SERVICES_CONTACT_SERVICE_ADDRESS: '127.0.0.1:50051' });
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toContain('EXTERNAL_SERVICES_CONTACT_SERVICE_SPIFFE_ID must be set when SERVICE_MESH_SPIFFE_ID is not');
  });

  it('requires an address for every service when discovery is static', () => {
    const error = configError({
      SERVICE_MESH_SPIFFE_ID: OWN_ID,
      SERVICE_MESH_DISCOVERY_SCHEME: 'static',
      EXTERNAL_SERVICES_CONTACT_SERVICE_TIMEOUT_SECONDS: '5',
    });
    expect(error.message).toContain('EXTERNAL_SERVICES_CONTACT_SERVICE_ADDRESS must be set when SERVICE_MESH_DISCOVERY_SCHEME is static');
  });

  it('rejects two services with the same name', () => {
    const error = configError({
      SERVICE_MESH_SPIFFE_ID: OWN_ID,
      EXTERNAL_SERVICES_CONTACT_SERVICE_ADDRESS: '127.0.0.1:1',
      EXTERNAL_SERVICES_CONTACTS_NAME: 'contact-service',
    });
    expect(error.message).toMatch(/EXTERNAL_SERVICES_\w+_NAME repeats the name of EXTERNAL_SERVICES_\w+_NAME, got "contact-service"/);
  });
});

describe('loadMeshConfig: the breaker shared by the fleet', () => {
  it('keeps breakers per container when MESH_STATE_TABLE is not set', () => {
    expect(loadMeshConfig({}).sharedBreaker).toBeUndefined();
  });

  it('shares breakers through MESH_STATE_TABLE by default, reading every 5 s and ramping up over 30 s', () => {
    expect(loadMeshConfig({ MESH_STATE_TABLE: 'mesh-state' }).sharedBreaker).toEqual({
      table: 'mesh-state',
      readIntervalSeconds: 5,
      slowStartSeconds: 30,
    });
  });

  it('reads the interval and the slow start, 0 switching the ramp off', () => {
    const config = loadMeshConfig({
      MESH_STATE_TABLE: 'arn:aws:dynamodb:eu-central-1:123456789012:table/mesh-state',
      CIRCUIT_BREAKER_SHARED: 'true',
      CIRCUIT_BREAKER_SHARED_READ_SECONDS: '2.5',
      CIRCUIT_BREAKER_SLOW_START_SECONDS: '0',
    });
    expect(config.sharedBreaker).toEqual({
      table: 'arn:aws:dynamodb:eu-central-1:123456789012:table/mesh-state',
      readIntervalSeconds: 2.5,
      slowStartSeconds: 0,
    });
  });

  it('keeps breakers per container when CIRCUIT_BREAKER_SHARED is false, even with the table set', () => {
    expect(loadMeshConfig({ MESH_STATE_TABLE: 'mesh-state', CIRCUIT_BREAKER_SHARED: 'false' }).sharedBreaker).toBeUndefined();
  });

  it('requires the table when CIRCUIT_BREAKER_SHARED is true', () => {
    expect(issuesOf(configError({ CIRCUIT_BREAKER_SHARED: 'true' }))).toEqual([
      'CIRCUIT_BREAKER_SHARED must be false when MESH_STATE_TABLE is not set (the fleet shares its breakers through that table), got "true"',
    ]);
  });

  it('names the key and the value of every bad setting', () => {
    const issues = issuesOf(
      configError({
        MESH_STATE_TABLE: 'x',
        CIRCUIT_BREAKER_SHARED: 'yes',
        CIRCUIT_BREAKER_SHARED_READ_SECONDS: '0',
        CIRCUIT_BREAKER_SLOW_START_SECONDS: '-1',
      }),
    );
    expect(issues).toEqual([
      'MESH_STATE_TABLE must be a dynamodb table name (3 to 255 letters, digits, _ . -) or table arn, got "x"',
      'CIRCUIT_BREAKER_SHARED must be true, false, 1 or 0, got "yes"',
      'CIRCUIT_BREAKER_SHARED_READ_SECONDS must be a positive number, got "0"',
      'CIRCUIT_BREAKER_SLOW_START_SECONDS must be a number of at least 0, got "-1"',
    ]);
  });
});
