import { isIP } from 'node:net';
// A namespace import lets esbuild keep only the zod in use; `import { z }` bundles every locale (~370 KB).
import * as z from 'zod';
import { MeshError } from '../errors.js';
import { SECRETS_MANAGER_ACCESS_MODES } from '../secrets/secrets-manager-access.js';
import { parseSpiffeId } from '../spiffe/spiffe-id.js';
import { DISCOVERY_SCHEMES } from './mesh-config.js';
import { authorizerFromSpiffeIds } from './service-authorizer.js';

/**
 * One schema per kind of configuration value. Sources hand over trimmed strings (lists only from
 * YAML sequences); each schema states its rule once, and the loader prefixes the key and appends
 * the value: `<KEY> must be a positive number, got "ten"`.
 */

/** Every failure of `schema` reports `rule`, whichever check failed. */
const rule = (message: string) => ({ error: message });

/** A list given as `a,b` or as a YAML sequence; blank items dropped. */
const list = (message: string) =>
  z
    .union([z.string(), z.array(z.string())], rule(message))
    .transform((v) => (Array.isArray(v) ? v : v.split(',')).map((s) => s.trim()).filter((s) => s !== ''));

export const booleanField = z.stringbool({
  truthy: ['true', '1'],
  falsy: ['false', '0'],
  case: 'insensitive',
  ...rule('must be true, false, 1 or 0'),
});

const POSITIVE_NUMBER = 'must be a positive number';
export const positiveNumberField = z
  .string(rule(POSITIVE_NUMBER))
  .regex(/^(\d+\.?\d*|\.\d+)$/, rule(POSITIVE_NUMBER))
  .transform(Number)
  .pipe(z.number().positive(rule(POSITIVE_NUMBER)).finite(rule(POSITIVE_NUMBER)));

const NON_NEGATIVE_NUMBER = 'must be a number of at least 0';
export const nonNegativeNumberField = z
  .string(rule(NON_NEGATIVE_NUMBER))
  .regex(/^(\d+\.?\d*|\.\d+)$/, rule(NON_NEGATIVE_NUMBER))
  .transform(Number)
  .pipe(z.number().min(0, rule(NON_NEGATIVE_NUMBER)).finite(rule(NON_NEGATIVE_NUMBER)));

const POSITIVE_INTEGER = 'must be a positive integer';
export const positiveIntegerField = z
  .string(rule(POSITIVE_INTEGER))
  .regex(/^\d+$/, rule(POSITIVE_INTEGER))
  .transform(Number)
  .pipe(z.number().int().positive(rule(POSITIVE_INTEGER)).max(Number.MAX_SAFE_INTEGER, rule(POSITIVE_INTEGER)));

export const textField = z.string(rule('must be a string')).min(1, rule('must not be empty'));

/** A DynamoDB table name (or ARN, which the SDK accepts wherever a name is). */
export const tableNameField = z
  .string(rule('must be a dynamodb table name'))
  .regex(/^([A-Za-z0-9_.-]{3,255}|arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:\d{12}:table\/[A-Za-z0-9_.-]{3,255})$/, rule('must be a dynamodb table name (3 to 255 letters, digits, _ . -) or table arn'));

export const serviceNameField = z
  .string(rule('must be a service name'))
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, rule('must be a service name of letters, digits, dots, dashes and underscores'));

export const discoverySchemeField = z
  .string(rule(`must be one of ${DISCOVERY_SCHEMES.join(', ')}`))
  .toLowerCase()
  .pipe(z.enum(DISCOVERY_SCHEMES, rule(`must be one of ${DISCOVERY_SCHEMES.join(', ')}`)));

export const secretsManagerAccessField = z
  .string(rule(`must be one of ${SECRETS_MANAGER_ACCESS_MODES.join(', ')}`))
  .toLowerCase()
  .pipe(z.enum(SECRETS_MANAGER_ACCESS_MODES, rule(`must be one of ${SECRETS_MANAGER_ACCESS_MODES.join(', ')}`)));

/** A whole number written in decimal digits, from `min` to `max`; every failure says `message`. */
function wholeNumberField(min: number, max: number, message: string) {
  return z
    .string(rule(message))
    .regex(/^\d{1,10}$/, rule(message))
    .transform(Number)
    .pipe(z.number().int().min(min, rule(message)).max(max, rule(message)));
}

export const portField = wholeNumberField(1, 65535, 'must be a port number from 1 to 65535');

/** `SECRETS_MANAGER_TTL`: AWS documents 0 (no caching) to 300 seconds. */
export const extensionCacheTtlField = wholeNumberField(0, 300, 'must be a whole number of seconds from 0 to 300');

const ADDRESS_RULE = 'must be host:port or [ipv6]:port with a port of 1..65535';
const ADDRESS = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]\s]+)):(\d{1,5})$/;

/** `host:port` or `[v6]:port` into its parts; undefined when malformed or the port is out of range. */
function splitAddress(text: string): { host: string; port: number } | undefined {
  const match = ADDRESS.exec(text);
  if (match === null) return undefined;
  const [, v6, host, digits] = match;
  const port = Number(digits);
  if (port < 1 || port > 65535) return undefined;
  if (v6 !== undefined && isIP(v6) !== 6) return undefined;
  return { host: v6 ?? host ?? '', port };
}

export const addressField = z.string(rule(ADDRESS_RULE)).transform((text, ctx) => {
  const address = splitAddress(text);
  if (address === undefined) ctx.addIssue({ code: 'custom', message: ADDRESS_RULE });
  return address ?? z.NEVER;
});

const DNS_SERVER_RULE = 'must be a comma-separated list of ip, ip:port or [ipv6]:port';
export const dnsServersField = list(DNS_SERVER_RULE).check((ctx) => {
  for (const server of ctx.value) {
    const address = isIP(server) !== 0 ? { host: server } : splitAddress(server);
    if (address === undefined || isIP(address.host) === 0) {
      ctx.issues.push({ code: 'custom', message: DNS_SERVER_RULE, input: ctx.value });
      return;
    }
  }
});

/** The rule a SPIFFE ID broke, without the value (the loader appends it). */
function brokenRule(error: unknown): string {
  if (!(error instanceof MeshError)) throw error;
  return error.message.replace(/: ".*"$/s, '');
}

export const spiffeIdField = z.string(rule('must be a SPIFFE ID')).transform((text, ctx) => {
  try {
    return parseSpiffeId(text);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: `must be a SPIFFE ID (${brokenRule(error)})` });
    return z.NEVER;
  }
});

/** A service's `SPIFFE_ID`: one ID, a comma-separated list, or a bare trust-domain ID. */
export const authorizedIdsField = list('must be one or more SPIFFE IDs').transform((ids, ctx) => {
  try {
    return { spiffeId: ids.join(','), authorize: authorizerFromSpiffeIds(ids) };
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: `must be one or more SPIFFE IDs (${brokenRule(error)})` });
    return z.NEVER;
  }
});
