import { describe, expect, it } from 'vitest';
import {
  hasCode,
  matchAny,
  matchId,
  matchMemberOf,
  matchOneOf,
  parseSpiffeId,
  parseTrustDomain,
  type Matcher,
} from '../../../shared/index.js';

const contact = parseSpiffeId('spiffe://jia.app/contact-service');
const billing = parseSpiffeId('spiffe://jia.app/billing');
const foreign = parseSpiffeId('spiffe://evil.example/contact-service');

function allows(matcher: Matcher, id = contact): boolean {
  try {
    matcher(id);
    return true;
  } catch (error) {
    if (hasCode(error, 'SPIFFE_ID_NOT_ALLOWED')) return false;
    throw error;
  }
}

describe('matchers', () => {
  it('matchId accepts exactly one ID', () => {
    expect(allows(matchId(contact), contact)).toBe(true);
    expect(allows(matchId(contact), billing)).toBe(false);
    expect(allows(matchId(contact), foreign)).toBe(false);
  });

  it('matchOneOf accepts any listed ID and nothing else', () => {
    const matcher = matchOneOf(contact, billing);

    expect(allows(matcher, contact)).toBe(true);
    expect(allows(matcher, billing)).toBe(true);
    expect(allows(matcher, foreign)).toBe(false);
  });

  it('matchMemberOf accepts IDs of one trust domain only', () => {
    const matcher = matchMemberOf(parseTrustDomain('jia.app'));

    expect(allows(matcher, billing)).toBe(true);
    expect(allows(matcher, foreign)).toBe(false);
  });

  it('matchAny accepts everything', () => {
    expect(allows(matchAny(), foreign)).toBe(true);
  });

  it('names the rejected ID in the error, as the mesh servers word it', () => {
    expect(() => matchId(contact)(foreign)).toThrow(/^spiffe ID not allowed: spiffe:\/\/evil\.example\/contact-service/);
  });
});
