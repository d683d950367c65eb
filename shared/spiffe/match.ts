import { SpiffeIdError } from '../errors.js';
import type { SpiffeId } from './spiffe-id.js';
import type { TrustDomain } from './trust-domain.js';

/**
 * Decides whether a peer's SPIFFE ID is acceptable: returns normally when it is, throws a
 * `SPIFFE_ID_NOT_ALLOWED` {@link SpiffeIdError} naming the ID when it is not. Same contract as
 * go-spiffe's `spiffeid.Matcher`, so authorisers compose as plain functions.
 */
export type Matcher = (id: SpiffeId) => void;

function notAllowed(id: SpiffeId, rule: string): never {
  throw new SpiffeIdError('SPIFFE_ID_NOT_ALLOWED', `spiffe ID not allowed: ${id.toString()} (${rule})`);
}

/** Accepts any SPIFFE ID. Only for tests and explicitly open services. */
export function matchAny(): Matcher {
  return function matchAnyId() {};
}

/** Accepts exactly `expected`. */
export function matchId(expected: SpiffeId): Matcher {
  const want = expected.toString();
  return function matchExactId(id) {
    if (id.toString() !== want) notAllowed(id, `expected ${want}`);
  };
}

/** Accepts any of `expected`. */
export function matchOneOf(...expected: SpiffeId[]): Matcher {
  const allowed = new Set(expected.map(String));
  return function matchOneOfIds(id) {
    if (!allowed.has(id.toString())) notAllowed(id, `expected one of ${[...allowed].join(', ')}`);
  };
}

/** Accepts any SPIFFE ID in `trustDomain`. */
export function matchMemberOf(trustDomain: TrustDomain): Matcher {
  return function matchTrustDomainMember(id) {
    if (!id.memberOf(trustDomain)) notAllowed(id, `expected a member of ${trustDomain.name}`);
  };
}
