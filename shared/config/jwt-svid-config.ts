import { callerAllowList } from '../authentication/caller-allow-list.js';
import { ConfigError, MeshError } from '../errors.js';
import { JWT_BUNDLE_FORMATS, type JwtBundleFormat } from '../spiffe/jwt-bundle.js';
import type { Matcher } from '../spiffe/match.js';
import { parseSpiffeId, type SpiffeId } from '../spiffe/spiffe-id.js';
import { parseTrustDomain, type TrustDomain } from '../spiffe/trust-domain.js';
import { quote } from './config-source.js';

/** Where one trust domain's JWT authorities come from. */
export interface JwtBundleLocation {
  trustDomain: TrustDomain;
  /** A file (local use); exactly one of `file` and `url`. */
  file?: string;
  /** An HTTPS bundle endpoint or JWKS URL. */
  url?: URL;
  format: JwtBundleFormat;
  /** `https_spiffe`: the endpoint's SPIFFE ID, authenticated by its X.509-SVID. Absent: `https_web`. */
  endpointSpiffeId?: SpiffeId;
}

/** JWT-SVID authentication of HTTP callers, on when `JWT_SVID_AUDIENCE` is set. */
export interface JwtSvidConfig {
  /** What a token's `aud` must contain, e.g. `spiffe://jia.app/payment-functions`. */
  audience: string;
  /** `JWT_SVID_ALLOWED_IDS` as configured. */
  allowedIds: string[];
  /** Admits a validated caller's SPIFFE ID; built from {@link allowedIds}. */
  authorize: Matcher;
  /** The function's own trust domain first, then the federated ones. */
  bundles: JwtBundleLocation[];
}

export const JWT_SVID_VARIABLES = [
  'JWT_SVID_AUDIENCE',
  'JWT_SVID_ALLOWED_IDS',
  'JWT_SVID_BUNDLE_FILE',
  'JWT_SVID_BUNDLE_URL',
  'JWT_SVID_BUNDLE_FORMAT',
  'JWT_SVID_BUNDLE_ENDPOINT_SPIFFE_ID',
  'JWT_SVID_FEDERATED_BUNDLE_URLS',
] as const;
type Variable = (typeof JWT_SVID_VARIABLES)[number];

const FORMAT_RULE = `must be one of ${JWT_BUNDLE_FORMATS.join(', ')}`;

/** The rule a SPIFFE ID broke, without the value. */
const ruleOf = (error: unknown) => (error instanceof MeshError ? error.message.replace(/: ".*"$/s, '') : String(error));

/**
 * Reads the JWT-SVID settings of a function that serves mesh callers over HTTP. Returns
 * `undefined` when `JWT_SVID_AUDIENCE` is unset (authentication off; any other `JWT_SVID_*` set
 * then is an error, not silently ignored). Called at init, so a bad value fails the cold start.
 *
 * @throws {ConfigError} `CONFIG_INVALID` listing every bad or missing value with its variable.
 */
export function loadJwtSvidConfig(env: NodeJS.ProcessEnv = process.env): JwtSvidConfig | undefined {
  const value = (name: Variable | 'SERVICE_MESH_SPIFFE_ID') => {
    const v = env[name]?.trim();
    return v === '' ? undefined : v;
  };
  const issues: string[] = [];
  const audience = value('JWT_SVID_AUDIENCE');
  if (audience === undefined) {
    const stray = JWT_SVID_VARIABLES.filter((name) => value(name) !== undefined);
    if (stray.length > 0) {
      throw new ConfigError('CONFIG_INVALID', `JWT_SVID_AUDIENCE must be set to switch JWT-SVID authentication on, but only ${stray.join(', ')} is set`);
    }
    return undefined;
  }

  const allowedIds = (value('JWT_SVID_ALLOWED_IDS') ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
  let authorize: Matcher = () => {};
  if (allowedIds.length === 0) {
    issues.push('JWT_SVID_ALLOWED_IDS must name the callers (SPIFFE IDs or spiffe://<trust domain>) when JWT_SVID_AUDIENCE is set');
  } else {
    try {
      authorize = callerAllowList(allowedIds);
    } catch (error) {
      issues.push(`JWT_SVID_ALLOWED_IDS must be comma-separated SPIFFE IDs (${ruleOf(error)}), got ${quote(value('JWT_SVID_ALLOWED_IDS'))}`);
    }
  }

  const bundles: JwtBundleLocation[] = [];
  const ownId = value('SERVICE_MESH_SPIFFE_ID');
  let own: TrustDomain | undefined;
  try {
    own = ownId === undefined ? undefined : parseSpiffeId(ownId).trustDomain;
  } catch {
    // loadMeshConfig reports a bad SERVICE_MESH_SPIFFE_ID with its rule.
  }
  if (own === undefined) issues.push('SERVICE_MESH_SPIFFE_ID must be set when JWT_SVID_AUDIENCE is: the JWT bundle is the own trust domain\'s');

  const format = value('JWT_SVID_BUNDLE_FORMAT') ?? 'spiffe';
  if (!(JWT_BUNDLE_FORMATS as readonly string[]).includes(format)) issues.push(`JWT_SVID_BUNDLE_FORMAT ${FORMAT_RULE}, got ${quote(format)}`);
  const file = value('JWT_SVID_BUNDLE_FILE');
  const url = value('JWT_SVID_BUNDLE_URL');
  const endpointId = value('JWT_SVID_BUNDLE_ENDPOINT_SPIFFE_ID');
  if ((file === undefined) === (url === undefined)) {
    issues.push(`exactly one of JWT_SVID_BUNDLE_FILE and JWT_SVID_BUNDLE_URL must be set when JWT_SVID_AUDIENCE is, got ${file === undefined ? 'neither' : 'both'}`);
  }
  if (file !== undefined && endpointId !== undefined) issues.push('JWT_SVID_BUNDLE_ENDPOINT_SPIFFE_ID applies to JWT_SVID_BUNDLE_URL only, not to a file');
  const location = { format: format as JwtBundleFormat };
  const parsedUrl = url === undefined ? undefined : httpsUrl(url, 'JWT_SVID_BUNDLE_URL', issues);
  const parsedEndpointId = endpointId === undefined ? undefined : spiffeIdOf(endpointId, 'JWT_SVID_BUNDLE_ENDPOINT_SPIFFE_ID', issues);
  if (own !== undefined) {
    bundles.push({
      trustDomain: own,
      ...location,
      ...(file === undefined ? {} : { file }),
      ...(parsedUrl === undefined ? {} : { url: parsedUrl }),
      ...(parsedEndpointId === undefined ? {} : { endpointSpiffeId: parsedEndpointId }),
    });
  }

  const federated = value('JWT_SVID_FEDERATED_BUNDLE_URLS');
  if (federated !== undefined) bundles.push(...federatedLocations(federated, own, issues));

  if (issues.length > 0) throw new ConfigError('CONFIG_INVALID', `invalid JWT-SVID configuration: ${issues.join('; ')}`);
  return { audience, allowedIds, authorize, bundles };
}

function httpsUrl(text: string, origin: string, issues: string[]): URL | undefined {
  try {
    const url = new URL(text);
    if (url.protocol === 'https:') return url;
  } catch {
    // Reported below with the same rule.
  }
  issues.push(`${origin} must be an https URL, got ${quote(text)}`);
  return undefined;
}

function spiffeIdOf(text: string, origin: string, issues: string[]): SpiffeId | undefined {
  try {
    return parseSpiffeId(text);
  } catch (error) {
    issues.push(`${origin} must be a SPIFFE ID (${ruleOf(error)}), got ${quote(text)}`);
    return undefined;
  }
}

const FEDERATED_RULE =
  'must be a JSON object of trust domain → https URL, or → {"url", "format"?, "endpointSpiffeId"?}';

/** `JWT_SVID_FEDERATED_BUNDLE_URLS`: `{"spiffe://partner.example": "https://…/bundle", …}`. */
function federatedLocations(text: string, own: TrustDomain | undefined, issues: string[]): JwtBundleLocation[] {
  const origin = 'JWT_SVID_FEDERATED_BUNDLE_URLS';
  let map: unknown;
  try {
    map = JSON.parse(text);
  } catch {
    issues.push(`${origin} ${FEDERATED_RULE}, got ${quote(text)}`);
    return [];
  }
  if (typeof map !== 'object' || map === null || Array.isArray(map)) {
    issues.push(`${origin} ${FEDERATED_RULE}, got ${quote(text)}`);
    return [];
  }
  const locations: JwtBundleLocation[] = [];
  for (const [key, entry] of Object.entries(map)) {
    const where = `${origin}[${JSON.stringify(key)}]`;
    let trustDomain: TrustDomain;
    try {
      trustDomain = parseTrustDomain(key);
    } catch (error) {
      issues.push(`${origin} keys must be trust domains (${ruleOf(error)}), got ${quote(key)}`);
      continue;
    }
    if (own !== undefined && trustDomain.equals(own)) {
      issues.push(`${where} names the own trust domain, whose bundle JWT_SVID_BUNDLE_URL or _FILE sets`);
      continue;
    }
    const spec = typeof entry === 'string' ? { url: entry } : (entry as { url?: unknown; format?: unknown; endpointSpiffeId?: unknown } | null);
    if (typeof spec !== 'object' || spec === null || typeof spec.url !== 'string') {
      issues.push(`${where} ${FEDERATED_RULE}, got ${quote(entry)}`);
      continue;
    }
    const url = httpsUrl(spec.url, where, issues);
    const format = spec.format ?? 'spiffe';
    if (!(JWT_BUNDLE_FORMATS as readonly unknown[]).includes(format)) issues.push(`${where}.format ${FORMAT_RULE}, got ${quote(format)}`);
    const endpointSpiffeId = typeof spec.endpointSpiffeId === 'string' ? spiffeIdOf(spec.endpointSpiffeId, `${where}.endpointSpiffeId`, issues) : undefined;
    if (url !== undefined) {
      locations.push({ trustDomain, url, format: format as JwtBundleFormat, ...(endpointSpiffeId ? { endpointSpiffeId } : {}) });
    }
  }
  return locations;
}
