import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { ConfigError, type ConfigErrorCode } from '../errors.js';

/**
 * Where gRPC's xDS client reads its bootstrap (the control plane's address, the node's identity),
 * in its order of precedence: a file named by `GRPC_XDS_BOOTSTRAP`, else the JSON itself in
 * `GRPC_XDS_BOOTSTRAP_CONFIG` (gRFC A27; grpc-js-xds `xds-bootstrap.ts`).
 */
export type XdsBootstrapVariable = 'GRPC_XDS_BOOTSTRAP' | 'GRPC_XDS_BOOTSTRAP_CONFIG';
export const XDS_BOOTSTRAP_VARIABLES = ['GRPC_XDS_BOOTSTRAP', 'GRPC_XDS_BOOTSTRAP_CONFIG'] as const satisfies readonly XdsBootstrapVariable[];

/** The bootstrap gRPC's xDS client will use, as far as this layer needs to know it. */
export interface XdsBootstrap {
  /** The variable it came from. */
  variable: XdsBootstrapVariable;
  /** `xds_servers[].server_uri`: the control plane(s), first one used. */
  serverUris: string[];
}

/**
 * An xDS bootstrap that is missing, unreadable or invalid while `SERVICE_MESH_DISCOVERY_SCHEME`
 * is `xds`. A {@link ConfigError} (`CONFIG_INVALID`, or `CONFIG_FILE_UNREADABLE` for the file),
 * so it fails the cold start like every other bad setting; `variable` names the culprit, or is
 * undefined when neither variable is set.
 */
export class XdsBootstrapError extends ConfigError {
  readonly variable: XdsBootstrapVariable | undefined;

  constructor(code: ConfigErrorCode, message: string, variable: XdsBootstrapVariable | undefined, options?: ErrorOptions) {
    super(code, message, options);
    this.variable = variable;
  }
}

/** The part of grpc-js-xds's (internal, CommonJS) bootstrap module used here. */
interface BootstrapValidator {
  validateBootstrapConfig(config: object): { xdsServers: { server_uri: string }[] };
}

/**
 * Reads and validates the xDS bootstrap the way grpc-js-xds will when the first `xds:` channel
 * starts (it caches the result for the process, from `process.env`): checking it at init turns a
 * deployment mistake into a cold-start failure naming the variable, rather than every call
 * failing `UNAVAILABLE` later. The checks beyond the shape are grpc-js-xds's own
 * `validateBootstrapConfig`, so a bootstrap accepted here is one the xDS client accepts.
 *
 * @throws {XdsBootstrapError} `CONFIG_INVALID` when neither variable is set (naming both), or the
 *   bootstrap is not JSON or not a valid bootstrap; `CONFIG_FILE_UNREADABLE` when the file of
 *   `GRPC_XDS_BOOTSTRAP` cannot be read.
 */
export function xdsBootstrapFromEnv(env: NodeJS.ProcessEnv = process.env): XdsBootstrap {
  // grpc-js-xds tests each variable for truthiness: an empty value counts as unset.
  const path = env.GRPC_XDS_BOOTSTRAP;
  const inline = env.GRPC_XDS_BOOTSTRAP_CONFIG;
  if (path) {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (cause) {
      const reason = cause instanceof Error ? cause.message : String(cause);
      throw new XdsBootstrapError('CONFIG_FILE_UNREADABLE', `GRPC_XDS_BOOTSTRAP names an xDS bootstrap file that cannot be read: ${path} (${reason})`, 'GRPC_XDS_BOOTSTRAP', {
        cause,
      });
    }
    return validated(text, 'GRPC_XDS_BOOTSTRAP', `the xDS bootstrap file ${path} (GRPC_XDS_BOOTSTRAP)`);
  }
  if (inline) return validated(inline, 'GRPC_XDS_BOOTSTRAP_CONFIG', 'GRPC_XDS_BOOTSTRAP_CONFIG');
  throw new XdsBootstrapError(
    'CONFIG_INVALID',
    'GRPC_XDS_BOOTSTRAP (a bootstrap file) or GRPC_XDS_BOOTSTRAP_CONFIG (its JSON) must be set when SERVICE_MESH_DISCOVERY_SCHEME is xds: ' +
      "gRPC's xDS client finds its control plane there, got neither",
    undefined,
  );
}

function validated(text: string, variable: XdsBootstrapVariable, what: string): XdsBootstrap {
  const invalid = (reason: string, cause?: unknown) =>
    new XdsBootstrapError('CONFIG_INVALID', `${what} is not a valid xDS bootstrap: ${reason}`, variable, cause === undefined ? undefined : { cause });
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw invalid(`it is not JSON (${cause instanceof Error ? cause.message : String(cause)})`, cause);
  }
  // grpc-js-xds dereferences these without checking; say what is missing instead of a TypeError.
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw invalid('it must be a JSON object');
  const { xds_servers: servers, node } = json as { xds_servers?: unknown; node?: unknown };
  if (!Array.isArray(servers) || servers.length === 0) throw invalid('xds_servers must list at least one control plane');
  if (typeof node !== 'object' || node === null) throw invalid('node must be an object with an id and a locality');
  try {
    const config = bootstrapValidator().validateBootstrapConfig(json);
    return { variable, serverUris: config.xdsServers.map((server) => server.server_uri) };
  } catch (cause) {
    throw invalid(cause instanceof Error ? cause.message : String(cause), cause);
  }
}

/**
 * grpc-js-xds's bootstrap validation. Not part of its public API, so it is pinned by the `~1.14`
 * range in package.json and exercised by the tests; it loads only grpc-js, not the xDS client
 * and its protos (~1.5 s), so checking the bootstrap stays cheap.
 */
function bootstrapValidator(): BootstrapValidator {
  return createRequire(import.meta.url)('@grpc/grpc-js-xds/build/src/xds-bootstrap') as BootstrapValidator;
}
