// A namespace import lets esbuild keep only the zod in use; `import { z }` bundles every locale (~370 KB).
import * as z from 'zod';
import {
  addressField,
  authorizedIdsField,
  booleanField,
  discoverySchemeField,
  dnsServersField,
  positiveIntegerField,
  nonNegativeNumberField,
  positiveNumberField,
  serviceNameField,
  spiffeIdField,
  tableNameField,
  textField,
} from './fields.js';
import { secretsManagerAccessShape } from './secrets-manager-access-config.js';

/**
 * The raw configuration both sources produce, keyed by environment variable name: a YAML path
 * maps to its name by joining with `_` and upper-casing (`service_mesh.discovery.ttl_seconds` is
 * `SERVICE_MESH_DISCOVERY_TTL_SECONDS`), so one schema validates both.
 */

const breakerShape = {
  CIRCUIT_BREAKER_FAILURE_THRESHOLD: positiveIntegerField.optional(),
  CIRCUIT_BREAKER_SUCCESS_THRESHOLD: positiveIntegerField.optional(),
  CIRCUIT_BREAKER_TIMEOUT_SECONDS: positiveNumberField.optional(),
  CIRCUIT_BREAKER_HALF_OPEN_MAX_CALLS: positiveIntegerField.optional(),
};

/** The function-wide variables. */
export const meshValuesSchema = z.object({
  SERVICE_MESH_ENABLED: booleanField.optional(),
  SERVICE_MESH_SPIFFE_ID: spiffeIdField.optional(),
  SERVICE_MESH_DISCOVERY_NAMESPACE: textField.optional(),
  SERVICE_MESH_DISCOVERY_SCHEME: discoverySchemeField.optional(),
  SERVICE_MESH_DISCOVERY_DNS_SERVERS: dnsServersField.optional(),
  SERVICE_MESH_DISCOVERY_TTL_SECONDS: positiveIntegerField.optional(),
  SERVICE_MESH_DISCOVERY_DNS_FIRST: booleanField.optional(),
  MTLS_ENABLED: booleanField.optional(),
  SVID_SECRET_ID: textField.optional(),
  SVID_DIR: textField.optional(),
  ...secretsManagerAccessShape,
  ...breakerShape,
  MESH_STATE_TABLE: tableNameField.optional(),
  CIRCUIT_BREAKER_SHARED: booleanField.optional(),
  CIRCUIT_BREAKER_SHARED_READ_SECONDS: positiveNumberField.optional(),
  CIRCUIT_BREAKER_SLOW_START_SECONDS: nonNegativeNumberField.optional(),
});

/** The `<FIELD>`s of one service's `EXTERNAL_SERVICES_<KEY>_<FIELD>` variables. */
export const serviceValuesSchema = z.object({
  NAME: serviceNameField.optional(),
  ADDRESS: addressField.optional(),
  SPIFFE_ID: authorizedIdsField.optional(),
  TIMEOUT_SECONDS: positiveNumberField.optional(),
  MAX_CONCURRENT_CALLS: positiveIntegerField.optional(),
  ...breakerShape,
});

export const MESH_KEYS: ReadonlySet<string> = new Set(Object.keys(meshValuesSchema.shape));
/** Longest first, so `…_CIRCUIT_BREAKER_TIMEOUT_SECONDS` is not read as `…_TIMEOUT_SECONDS`. */
export const SERVICE_FIELDS: readonly string[] = Object.keys(serviceValuesSchema.shape).sort(
  (a, b) => b.length - a.length,
);
export const SERVICES_PREFIX = 'EXTERNAL_SERVICES_';

/** A service `<KEY>`: what an environment variable name can hold. */
export const SERVICE_KEY = /^[A-Z0-9]+(?:_[A-Z0-9]+)*$/;

/** One raw value and where it came from, for messages: the variable name or the YAML path. */
export interface RawValue {
  value: string | string[];
  origin: string;
}

/** What one source contributes: values by variable name, the service keys it names, its problems. */
export interface ConfigSource {
  values: Map<string, RawValue>;
  serviceKeys: Set<string>;
  /** Invalid values found while reading (unknown keys, wrong shapes), with origin and value. */
  issues: string[];
}

/** Combines sources; a later source wins per key, service keys and issues accumulate. */
export function mergeSources(...sources: ConfigSource[]): ConfigSource {
  return {
    values: new Map(sources.flatMap((s) => [...s.values])),
    serviceKeys: new Set(sources.flatMap((s) => [...s.serviceKeys])),
    issues: sources.flatMap((s) => s.issues),
  };
}

/** `<value>` as messages quote it. */
export function quote(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}
