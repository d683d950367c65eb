// A namespace import lets esbuild keep only the zod in use; `import { z }` bundles every locale (~370 KB).
import * as z from 'zod';
import { ConfigError } from '../errors.js';
import type { SpiffeId } from '../spiffe/spiffe-id.js';
import {
  MESH_KEYS,
  SERVICE_FIELDS,
  SERVICES_PREFIX,
  mergeSources,
  meshValuesSchema,
  quote,
  serviceValuesSchema,
  type ConfigSource,
} from './config-source.js';
import { envSource } from './env-source.js';
import { secretsManagerAccessOf } from './secrets-manager-access-config.js';
import {
  MESH_DEFAULTS,
  discoveryOrder,
  type CircuitBreakerConfig,
  type MeshConfig,
  type ServiceConfig,
  type SharedBreakerConfig,
} from './mesh-config.js';
import { authorizerFromSpiffeIds } from './service-authorizer.js';
import { yamlSource } from './yaml-source.js';

const rawConfigSchema = z.object({
  mesh: meshValuesSchema,
  services: z.record(z.string(), serviceValuesSchema),
});
type MeshValues = z.output<typeof meshValuesSchema>;
type ServiceValues = z.output<typeof serviceValuesSchema>;

/**
 * Loads the function's mesh configuration from environment variables and, when `CONFIG_FILE`
 * names one, the mesh's config.yaml (environment wins per key). Services are every `<KEY>` of an
 * `EXTERNAL_SERVICES_<KEY>_<FIELD>` variable and every key under `external_services`.
 * Called once at init, so a bad value fails the cold start rather than a request.
 *
 * @throws {ConfigError} `CONFIG_INVALID` listing every bad or missing value with its key (variable
 *   name or YAML path) and value; `CONFIG_FILE_UNREADABLE` naming the file;
 *   `CONFIG_FILE_UNSUPPORTED` when a file is named but the `yaml` package is not shipped;
 *   `CONFIG_INTERPOLATION` naming each unset variable and the YAML key using it.
 */
export function loadMeshConfig(env: NodeJS.ProcessEnv = process.env): MeshConfig {
  const configFile = env.CONFIG_FILE?.trim();
  const fromEnv = envSource(env);
  const source = configFile ? mergeSources(yamlSource(configFile, env), fromEnv) : fromEnv;

  // Parsed once per container: zod's JIT would compile a fast path (≈5 ms of the cold start) that
  // only pays off over many parses.
  const parsed = rawConfigSchema.safeParse(rawInput(source), { jitless: true });
  const issues = [...source.issues];
  if (!parsed.success) {
    const seen = new Set<string>();
    for (const issue of parsed.error.issues) {
      const name = envNameOf(issue.path);
      if (seen.has(name)) continue;
      seen.add(name);
      const raw = source.values.get(name);
      issues.push(`${raw?.origin ?? name} ${issue.message}, got ${quote(raw?.value)}`);
    }
    throw invalid(issues, parsed.error);
  }

  const config = assemble(parsed.data.mesh, parsed.data.services, issues);
  issues.push(...dnsFirstIssues(config, source));
  if (issues.length > 0) throw invalid(issues);
  return config;
}

/**
 * DNS first reorders the Cloud Map chain, so it needs that chain and a namespace to look names
 * up in; with another scheme it would silently mean nothing, which is a configuration mistake.
 */
function dnsFirstIssues(config: MeshConfig, source: ConfigSource): string[] {
  const { dnsFirst, scheme, namespace } = config.discovery;
  if (!dnsFirst) return [];
  const raw = source.values.get('SERVICE_MESH_DISCOVERY_DNS_FIRST');
  const key = raw?.origin ?? 'SERVICE_MESH_DISCOVERY_DNS_FIRST';
  const got = quote(raw?.value);
  if (scheme !== 'cloudmap') {
    return [`${key} must be false unless SERVICE_MESH_DISCOVERY_SCHEME is cloudmap (it puts dns before the cloud map api), got ${got} with scheme ${quote(scheme)}`];
  }
  if (namespace === undefined) {
    return [`${key} must be false unless SERVICE_MESH_DISCOVERY_NAMESPACE names the cloud map dns namespace to look names up in, got ${got}`];
  }
  return [];
}

/** The values in the shape of {@link rawConfigSchema}: function-wide by name, services by key. */
function rawInput(source: ConfigSource) {
  const mesh: Record<string, unknown> = {};
  const services: Record<string, Record<string, unknown>> = {};
  for (const name of MESH_KEYS) {
    const raw = source.values.get(name);
    if (raw !== undefined) mesh[name] = raw.value;
  }
  for (const key of source.serviceKeys) {
    const fields: Record<string, unknown> = {};
    for (const field of SERVICE_FIELDS) {
      const raw = source.values.get(`${SERVICES_PREFIX}${key}_${field}`);
      if (raw !== undefined) fields[field] = raw.value;
    }
    services[key] = fields;
  }
  return { mesh, services };
}

/** The variable name an issue path of {@link rawConfigSchema} stands for. */
function envNameOf(path: readonly PropertyKey[]): string {
  const [group, first, field] = path.map(String);
  return group === 'services' ? `${SERVICES_PREFIX}${first}_${field}` : (first ?? '');
}

function invalid(issues: string[], cause?: unknown): ConfigError {
  return new ConfigError('CONFIG_INVALID', `invalid configuration: ${issues.join('; ')}`, { cause });
}

/** Applies the defaults and the rules that span values; pushes what breaks them onto `issues`. */
function assemble(mesh: MeshValues, raw: Record<string, ServiceValues>, issues: string[]): MeshConfig {
  const scheme = mesh.SERVICE_MESH_DISCOVERY_SCHEME ?? MESH_DEFAULTS.discovery.scheme;
  const dnsFirst = mesh.SERVICE_MESH_DISCOVERY_DNS_FIRST ?? MESH_DEFAULTS.discovery.dnsFirst;
  const enabled = mesh.SERVICE_MESH_ENABLED ?? MESH_DEFAULTS.enabled;
  const circuitBreaker = breaker(mesh, MESH_DEFAULTS.circuitBreaker);
  const services: [string, ServiceConfig][] = [];
  const keyOfName = new Map<string, string>();

  for (const [key, values] of Object.entries(raw)) {
    const prefix = `${SERVICES_PREFIX}${key}_`;
    const name = values.NAME ?? key.toLowerCase().replaceAll('_', '-');
    const other = keyOfName.get(name);
    if (other !== undefined) {
      issues.push(`${prefix}NAME repeats the name of ${SERVICES_PREFIX}${other}_NAME, got ${quote(name)}`);
      continue;
    }
    keyOfName.set(name, key);
    const authorized = values.SPIFFE_ID ?? defaultAuthorized(mesh.SERVICE_MESH_SPIFFE_ID, name);
    if (authorized === undefined) {
      issues.push(`${prefix}SPIFFE_ID must be set when SERVICE_MESH_SPIFFE_ID is not`);
      continue;
    }
    if (enabled && scheme === 'static' && values.ADDRESS === undefined) {
      issues.push(`${prefix}ADDRESS must be set when SERVICE_MESH_DISCOVERY_SCHEME is static`);
    }
    const service: ServiceConfig = {
      key,
      name,
      spiffeId: authorized.spiffeId,
      authorize: authorized.authorize,
      timeoutSeconds: values.TIMEOUT_SECONDS ?? MESH_DEFAULTS.service.timeoutSeconds,
      maxConcurrentCalls: values.MAX_CONCURRENT_CALLS ?? MESH_DEFAULTS.service.maxConcurrentCalls,
      circuitBreaker: breaker(values, circuitBreaker),
    };
    if (values.ADDRESS !== undefined) service.address = values.ADDRESS;
    services.push([name, service]);
  }

  const config: MeshConfig = {
    enabled,
    mtlsEnabled: mesh.MTLS_ENABLED ?? MESH_DEFAULTS.mtlsEnabled,
    discovery: {
      scheme,
      dnsFirst,
      order: discoveryOrder(scheme, dnsFirst),
      dnsServers: mesh.SERVICE_MESH_DISCOVERY_DNS_SERVERS ?? [],
      ttlSeconds: mesh.SERVICE_MESH_DISCOVERY_TTL_SECONDS ?? MESH_DEFAULTS.discovery.ttlSeconds,
    },
    svid: {},
    circuitBreaker,
    services: Object.fromEntries(services),
  };
  if (mesh.SERVICE_MESH_SPIFFE_ID !== undefined) config.spiffeId = mesh.SERVICE_MESH_SPIFFE_ID;
  if (mesh.SERVICE_MESH_DISCOVERY_NAMESPACE !== undefined) {
    config.discovery.namespace = mesh.SERVICE_MESH_DISCOVERY_NAMESPACE;
  }
  if (mesh.SVID_SECRET_ID !== undefined) config.svid.secretId = mesh.SVID_SECRET_ID;
  if (mesh.SVID_DIR !== undefined) config.svid.dir = mesh.SVID_DIR;
  const secretsManager = secretsManagerAccessOf(mesh);
  if (secretsManager !== undefined) config.secretsManager = secretsManager;
  const sharedBreaker = sharedBreakerOf(mesh, issues);
  if (sharedBreaker !== undefined) config.sharedBreaker = sharedBreaker;
  return config;
}

/** Shared when the table is set, unless `CIRCUIT_BREAKER_SHARED` says false; shared needs the table. */
function sharedBreakerOf(mesh: MeshValues, issues: string[]): SharedBreakerConfig | undefined {
  const table = mesh.MESH_STATE_TABLE;
  const shared = mesh.CIRCUIT_BREAKER_SHARED ?? table !== undefined;
  if (!shared) return undefined;
  if (table === undefined) {
    issues.push('CIRCUIT_BREAKER_SHARED must be false when MESH_STATE_TABLE is not set (the fleet shares its breakers through that table), got "true"');
    return undefined;
  }
  const defaults = MESH_DEFAULTS.sharedBreaker;
  return {
    table,
    readIntervalSeconds: mesh.CIRCUIT_BREAKER_SHARED_READ_SECONDS ?? defaults.readIntervalSeconds,
    slowStartSeconds: mesh.CIRCUIT_BREAKER_SLOW_START_SECONDS ?? defaults.slowStartSeconds,
  };
}

/** A service in our own trust domain is by default `spiffe://<our trust domain>/<name>`. */
function defaultAuthorized(own: SpiffeId | undefined, name: string) {
  if (own === undefined) return undefined;
  const spiffeId = `spiffe://${own.trustDomain.name}/${name}`;
  return { spiffeId, authorize: authorizerFromSpiffeIds([spiffeId]) };
}

type BreakerValues = Partial<
  Record<'CIRCUIT_BREAKER_FAILURE_THRESHOLD' | 'CIRCUIT_BREAKER_SUCCESS_THRESHOLD' | 'CIRCUIT_BREAKER_TIMEOUT_SECONDS' | 'CIRCUIT_BREAKER_HALF_OPEN_MAX_CALLS', number | undefined>
>;

function breaker(values: BreakerValues, defaults: CircuitBreakerConfig): CircuitBreakerConfig {
  return {
    failureThreshold: values.CIRCUIT_BREAKER_FAILURE_THRESHOLD ?? defaults.failureThreshold,
    successThreshold: values.CIRCUIT_BREAKER_SUCCESS_THRESHOLD ?? defaults.successThreshold,
    timeoutSeconds: values.CIRCUIT_BREAKER_TIMEOUT_SECONDS ?? defaults.timeoutSeconds,
    halfOpenMaxCalls: values.CIRCUIT_BREAKER_HALF_OPEN_MAX_CALLS ?? defaults.halfOpenMaxCalls,
  };
}
