import { MESH_KEYS, SERVICE_FIELDS, SERVICE_KEY, SERVICES_PREFIX, type ConfigSource } from './config-source.js';

/**
 * The configuration in environment variables. Variables this layer does not know are ignored
 * (the environment is shared with everything else in the function), and an empty value counts
 * as unset, as CDK and shells commonly pass "not configured".
 */
export function envSource(env: NodeJS.ProcessEnv): ConfigSource {
  const source: ConfigSource = { values: new Map(), serviceKeys: new Set(), issues: [] };
  for (const [name, raw] of Object.entries(env)) {
    const value = raw?.trim();
    if (value === undefined || value === '') continue;
    if (MESH_KEYS.has(name)) {
      source.values.set(name, { value, origin: name });
      continue;
    }
    const key = serviceKeyOf(name);
    if (key !== undefined) {
      source.values.set(name, { value, origin: name });
      source.serviceKeys.add(key);
    }
  }
  return source;
}

/** `CONTACT_SERVICE` of `EXTERNAL_SERVICES_CONTACT_SERVICE_TIMEOUT_SECONDS`: the key may hold `_`. */
function serviceKeyOf(name: string): string | undefined {
  if (!name.startsWith(SERVICES_PREFIX)) return undefined;
  const rest = name.slice(SERVICES_PREFIX.length);
  for (const field of SERVICE_FIELDS) {
    if (!rest.endsWith(`_${field}`)) continue;
    const key = rest.slice(0, -(field.length + 1));
    return SERVICE_KEY.test(key) ? key : undefined;
  }
  return undefined;
}
