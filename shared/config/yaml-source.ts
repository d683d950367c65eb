import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';
import { ConfigError } from '../errors.js';
import {
  MESH_KEYS,
  SERVICE_FIELDS,
  SERVICE_KEY,
  SERVICES_PREFIX,
  quote,
  type ConfigSource,
} from './config-source.js';
import { interpolate } from './interpolate.js';

/** Top-level sections this layer owns; the mesh's config.yaml may hold others, which are ignored. */
const SECTIONS = new Set(['service_mesh', 'mtls', 'svid', 'circuit_breaker']);
const SERVICES_SECTION = 'external_services';

type Leaf = { path: string[]; value: unknown };

/**
 * Reads the configuration from the mesh's config.yaml at `path`, expanding `${VAR}` and
 * `${VAR:-default}` in string values from `env`. Unknown keys inside owned sections are issues
 * (a typo must not silently fall back to a default).
 *
 * @throws {ConfigError} `CONFIG_FILE_UNREADABLE` naming the path when it cannot be read,
 *   `CONFIG_FILE_UNSUPPORTED` when the `yaml` package is not installed beside the code,
 *   `CONFIG_INVALID` when it is not YAML or not a mapping, `CONFIG_INTERPOLATION` naming each
 *   variable and key that could not be expanded.
 */
export function yamlSource(path: string, env: NodeJS.ProcessEnv): ConfigSource {
  const root = readYaml(path);
  const source: ConfigSource = { values: new Map(), serviceKeys: new Set(), issues: [] };
  const interpolationProblems: string[] = [];
  const origin = (keys: string[]) => `${keys.join('.')} in ${path}`;

  const take = (name: string, leaf: Leaf) => {
    const value = toRaw(leaf.value);
    if (value === undefined) {
      source.issues.push(`${origin(leaf.path)} must be a value or a list of values, got ${quote(leaf.value)}`);
      return;
    }
    const expanded: string[] = [];
    for (const item of Array.isArray(value) ? value : [value]) {
      const result = interpolate(item, env);
      if (result.ok) expanded.push(result.value.trim());
      else interpolationProblems.push(...result.problems.map((p) => `${origin(leaf.path)}: ${p}`));
    }
    const [first] = expanded;
    if (Array.isArray(value)) source.values.set(name, { value: expanded, origin: origin(leaf.path) });
    // Like an empty environment variable, a scalar that expands to nothing is unset.
    else if (first) source.values.set(name, { value: first, origin: origin(leaf.path) });
  };

  for (const [section, body] of Object.entries(root)) {
    if (SECTIONS.has(section)) {
      for (const leaf of leaves(body, [section])) {
        const name = envName(leaf.path);
        if (MESH_KEYS.has(name)) take(name, leaf);
        else source.issues.push(`${origin(leaf.path)} is not a known setting`);
      }
    } else if (section === SERVICES_SECTION) {
      if (!isMapping(body)) {
        if (body !== null) source.issues.push(`${origin([section])} must be a mapping of services`);
        continue;
      }
      for (const [serviceKey, serviceBody] of Object.entries(body)) {
        const key = envName([serviceKey.replaceAll('-', '_')]);
        if (!SERVICE_KEY.test(key)) {
          source.issues.push(`${origin([section, serviceKey])} must be a key of letters, digits, _ and -`);
          continue;
        }
        source.serviceKeys.add(key);
        for (const leaf of leaves(serviceBody, [section, serviceKey])) {
          const field = envName(leaf.path.slice(2));
          if (SERVICE_FIELDS.includes(field)) take(`${SERVICES_PREFIX}${key}_${field}`, leaf);
          else source.issues.push(`${origin(leaf.path)} is not a known setting`);
        }
      }
    }
  }
  if (interpolationProblems.length > 0) {
    throw new ConfigError('CONFIG_INTERPOLATION', interpolationProblems.join('; '));
  }
  return source;
}

/**
 * The mapping at the root of the YAML file at `path` (empty for an empty file), for sections other
 * configuration owners read (payment-webhook reads `stripe`).
 *
 * @throws {ConfigError} `CONFIG_FILE_UNREADABLE`, `CONFIG_FILE_UNSUPPORTED` or `CONFIG_INVALID`, as {@link yamlSource}.
 */
export function readYaml(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    const reason = (cause as NodeJS.ErrnoException).code ?? 'read failed';
    throw new ConfigError('CONFIG_FILE_UNREADABLE', `config file cannot be read: ${path} (${reason})`, { cause });
  }
  const doc = yamlParser(path).parseDocument(text);
  const [syntaxError] = doc.errors;
  if (syntaxError !== undefined) {
    throw new ConfigError('CONFIG_INVALID', `config file ${path} is not valid YAML: ${syntaxError.message}`, {
      cause: syntaxError,
    });
  }
  const root: unknown = doc.toJS();
  if (root === null || root === undefined) return {};
  if (!isMapping(root)) {
    throw new ConfigError('CONFIG_INVALID', `config file ${path} must hold a mapping, got ${quote(root)}`);
  }
  return root;
}

/**
 * The `yaml` package, required on first use rather than imported. Deployed functions take their
 * configuration from the environment (the CDK stack never sets `CONFIG_FILE`), so esbuild, which
 * does not follow `createRequire`, leaves yaml's 117 KB out of every bundle and a cold start never
 * compiles it. A function that does read a file must ship yaml beside its bundle.
 *
 * @throws {ConfigError} `CONFIG_FILE_UNSUPPORTED` naming `path` when yaml cannot be loaded.
 */
function yamlParser(path: string): typeof Yaml {
  try {
    return createRequire(import.meta.url)('yaml') as typeof Yaml;
  } catch (cause) {
    throw new ConfigError(
      'CONFIG_FILE_UNSUPPORTED',
      `CONFIG_FILE names ${path}, but reading it needs the yaml package, which this build does not include: ` +
        'unset CONFIG_FILE and configure through environment variables, or ship yaml with the function (bundling nodeModules: ["yaml"])',
      { cause },
    );
  }
}

/** Every scalar or list under `node`, with its path; `null` leaves are unset and skipped. */
function* leaves(node: unknown, path: string[]): Generator<Leaf> {
  if (node === null || node === undefined) return;
  if (!isMapping(node)) {
    yield { path, value: node };
    return;
  }
  for (const [key, child] of Object.entries(node)) yield* leaves(child, [...path, key]);
}

/** A scalar as text, a list of scalars as texts; undefined for anything else. */
function toRaw(value: unknown): string | string[] | undefined {
  const scalar = (v: unknown) =>
    typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined;
  if (!Array.isArray(value)) return scalar(value);
  const items = value.map(scalar);
  return items.every((i) => i !== undefined) ? (items as string[]) : undefined;
}

function envName(path: string[]): string {
  return path.join('_').toUpperCase();
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
