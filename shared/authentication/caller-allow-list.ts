import { SpiffeIdError } from '../errors.js';
import { matchMemberOf, matchOneOf, type Matcher } from '../spiffe/match.js';
import { parseSpiffeId } from '../spiffe/spiffe-id.js';

/**
 * Builds the matcher that admits callers: each entry is a SPIFFE ID (exactly that workload) or a
 * trust domain's own ID `spiffe://<td>` (any workload of it), mixed freely; a caller is admitted
 * when any entry accepts it. Built from the transport's matchers (`matchOneOf`, `matchMemberOf`),
 * so the rules read the same as the mesh servers' `AddAllowedSpiffeID` allow-lists.
 *
 * @throws {SpiffeIdError} when an entry breaks the SPIFFE-ID spec, or the list is empty or has `*`.
 */
export function callerAllowList(entries: readonly string[]): Matcher {
  if (entries.length === 0) throw new SpiffeIdError('SPIFFE_ID_EMPTY', 'the allow-list names no caller: cannot be empty');
  if (entries.includes('*')) {
    throw new SpiffeIdError('SPIFFE_ID_WRONG_SCHEME', 'the wildcard * is not allowed, name the callers\' SPIFFE IDs or trust domains: "*"');
  }
  const ids = entries.map(parseSpiffeId);
  const workloads = ids.filter((id) => id.hasPath);
  const matchers: Matcher[] = ids.filter((id) => !id.hasPath).map((td) => matchMemberOf(td.trustDomain));
  if (workloads.length > 0) matchers.unshift(matchOneOf(...workloads));
  const allowed = ids.map(String).join(', ');
  return function matchAllowedCaller(id) {
    // A trust domain's own ID names no workload (SPIFFE-ID §2.2, X509-SVID §4): never a caller.
    if (!id.hasPath) throw new SpiffeIdError('SPIFFE_ID_NOT_ALLOWED', `spiffe ID not allowed: ${id.toString()} (a trust domain ID is not a workload)`);
    for (const matcher of matchers) {
      try {
        matcher(id);
        return;
      } catch {
        // The next entry may admit it.
      }
    }
    throw new SpiffeIdError('SPIFFE_ID_NOT_ALLOWED', `spiffe ID not allowed: ${id.toString()} (expected one of ${allowed})`);
  };
}
