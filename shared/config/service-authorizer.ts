import { ConfigError } from '../errors.js';
import { matchId, matchMemberOf, matchOneOf, type Matcher } from '../spiffe/match.js';
import { parseSpiffeId } from '../spiffe/spiffe-id.js';

/**
 * Builds the matcher that authorises a service's server from its configured SPIFFE IDs: one ID
 * accepts exactly it, several accept any of them, and a bare trust-domain ID (`spiffe://jia.app`)
 * accepts any member of that trust domain. There is deliberately no wildcard: a mesh call must
 * name whom it trusts.
 *
 * @throws {SpiffeIdError} when an ID breaks the SPIFFE-ID spec.
 * @throws {ConfigError} `CONFIG_INVALID` for `*`, an empty list, or a trust domain mixed with IDs.
 */
export function authorizerFromSpiffeIds(texts: readonly string[]): Matcher {
  if (texts.includes('*')) {
    throw new ConfigError('CONFIG_INVALID', 'the wildcard * is not allowed, name the server SPIFFE IDs');
  }
  const ids = texts.map(parseSpiffeId);
  const [first, ...rest] = ids;
  if (first === undefined) throw new ConfigError('CONFIG_INVALID', 'at least one SPIFFE ID is required');
  if (!first.hasPath && rest.length === 0) return matchMemberOf(first.trustDomain);
  if (ids.some((id) => !id.hasPath)) {
    throw new ConfigError('CONFIG_INVALID', 'a trust domain ID cannot be combined with other IDs');
  }
  return rest.length === 0 ? matchId(first) : matchOneOf(...ids);
}
