import { describe, expect, it } from 'vitest';
import { parseSpiffeId, parseTrustDomain, SpiffeIdError, spiffeIdFromSegments } from '../../../shared/index.js';

describe('parseSpiffeId', () => {
  it.each([
    ['spiffe://jia.app/contact-service', 'jia.app', '/contact-service'],
    ['spiffe://jia.app', 'jia.app', ''],
    ['spiffe://a-b_c.d9/ns/Prod/sa/Web_1.x-y', 'a-b_c.d9', '/ns/Prod/sa/Web_1.x-y'],
    ['spiffe://td/...', 'td', '/...'],
    ['spiffe://td/.a/a.', 'td', '/.a/a.'],
  ])('accepts %s', (text, trustDomain, path) => {
    const id = parseSpiffeId(text);

    expect(id.trustDomain.name).toBe(trustDomain);
    expect(id.path).toBe(path);
    expect(id.toString()).toBe(text);
    expect(JSON.stringify({ id })).toBe(JSON.stringify({ id: text }));
  });

  it.each([
    ['', 'SPIFFE_ID_EMPTY', 'cannot be empty'],
    ['http://jia.app/x', 'SPIFFE_ID_WRONG_SCHEME', 'scheme is missing or invalid'],
    ['SPIFFE://jia.app/x', 'SPIFFE_ID_WRONG_SCHEME', 'scheme is missing or invalid'],
    ['spiffe:/jia.app/x', 'SPIFFE_ID_WRONG_SCHEME', 'scheme is missing or invalid'],
    ['jia.app/x', 'SPIFFE_ID_WRONG_SCHEME', 'scheme is missing or invalid'],
    ['spiffe://', 'SPIFFE_ID_MISSING_TRUST_DOMAIN', 'trust domain is missing'],
    ['spiffe:///path', 'SPIFFE_ID_MISSING_TRUST_DOMAIN', 'trust domain is missing'],
    ['spiffe://Jia.app/x', 'SPIFFE_ID_BAD_TRUST_DOMAIN_CHAR', 'trust domain characters are limited to lowercase letters, numbers, dots, dashes, and underscores'],
    ['spiffe://jia.app:8443/x', 'SPIFFE_ID_BAD_TRUST_DOMAIN_CHAR', 'trust domain characters'],
    ['spiffe://user@jia.app/x', 'SPIFFE_ID_BAD_TRUST_DOMAIN_CHAR', 'trust domain characters'],
    ['spiffe://jia%2eapp/x', 'SPIFFE_ID_BAD_TRUST_DOMAIN_CHAR', 'trust domain characters'],
    ['spiffe://jia.app?x=1', 'SPIFFE_ID_BAD_TRUST_DOMAIN_CHAR', 'trust domain characters'],
    ['spiffe://jia.app/', 'SPIFFE_ID_TRAILING_SLASH', 'path cannot have a trailing slash'],
    ['spiffe://jia.app/a/', 'SPIFFE_ID_TRAILING_SLASH', 'path cannot have a trailing slash'],
    ['spiffe://jia.app//a', 'SPIFFE_ID_EMPTY_SEGMENT', 'path cannot contain empty segments'],
    ['spiffe://jia.app/a//b', 'SPIFFE_ID_EMPTY_SEGMENT', 'path cannot contain empty segments'],
    ['spiffe://jia.app/.', 'SPIFFE_ID_DOT_SEGMENT', 'path cannot contain dot segments'],
    ['spiffe://jia.app/a/../b', 'SPIFFE_ID_DOT_SEGMENT', 'path cannot contain dot segments'],
    ['spiffe://jia.app/a/..', 'SPIFFE_ID_DOT_SEGMENT', 'path cannot contain dot segments'],
    ['spiffe://jia.app/a%20b', 'SPIFFE_ID_BAD_PATH_SEGMENT_CHAR', 'path segment characters are limited to letters, numbers, dots, dashes, and underscores'],
    ['spiffe://jia.app/a?b=c', 'SPIFFE_ID_BAD_PATH_SEGMENT_CHAR', 'path segment characters'],
    ['spiffe://jia.app/a#frag', 'SPIFFE_ID_BAD_PATH_SEGMENT_CHAR', 'path segment characters'],
    ['spiffe://jia.app/ü', 'SPIFFE_ID_BAD_PATH_SEGMENT_CHAR', 'path segment characters'],
  ])('rejects %j with %s', (text, code, rule) => {
    const error = captureError(() => parseSpiffeId(text));

    expect(error).toBeInstanceOf(SpiffeIdError);
    expect(error.code).toBe(code);
    expect(error.message).toContain(rule);
    expect(error.message).toContain(JSON.stringify(text));
  });

  it('reports the trust domain as its own ID and compares IDs by value', () => {
    const id = parseSpiffeId('spiffe://jia.app/contact-service');

    expect(id.trustDomain.id().toString()).toBe('spiffe://jia.app');
    expect(id.hasPath).toBe(true);
    expect(id.trustDomain.id().hasPath).toBe(false);
    expect(id.equals(parseSpiffeId('spiffe://jia.app/contact-service'))).toBe(true);
    expect(id.equals(parseSpiffeId('spiffe://jia.app/other'))).toBe(false);
    expect(id.memberOf(parseTrustDomain('jia.app'))).toBe(true);
    expect(id.memberOf(parseTrustDomain('other.app'))).toBe(false);
  });
});

describe('parseTrustDomain', () => {
  it.each([
    ['jia.app', 'jia.app'],
    ['spiffe://jia.app', 'jia.app'],
    ['spiffe://jia.app/payment-functions', 'jia.app'],
  ])('accepts %s as %s', (text, name) => {
    expect(parseTrustDomain(text).name).toBe(name);
  });

  it.each([
    ['', 'SPIFFE_ID_MISSING_TRUST_DOMAIN'],
    ['Jia.app', 'SPIFFE_ID_BAD_TRUST_DOMAIN_CHAR'],
    ['jia.app:443', 'SPIFFE_ID_BAD_TRUST_DOMAIN_CHAR'],
    ['jia.app/x', 'SPIFFE_ID_BAD_TRUST_DOMAIN_CHAR'],
    ['spiffe:/jia.app', 'SPIFFE_ID_WRONG_SCHEME'],
    ['spiffe://jia.app/a/', 'SPIFFE_ID_TRAILING_SLASH'],
  ])('rejects %j with %s', (text, code) => {
    expect(captureError(() => parseTrustDomain(text)).code).toBe(code);
  });
});

describe('spiffeIdFromSegments', () => {
  it('joins segments under the trust domain', () => {
    expect(spiffeIdFromSegments(parseTrustDomain('jia.app'), 'ns', 'svc').toString()).toBe('spiffe://jia.app/ns/svc');
  });

  it('rejects a segment that breaks the path rules', () => {
    expect(captureError(() => spiffeIdFromSegments(parseTrustDomain('jia.app'), 'a', '', 'b')).code).toBe(
      'SPIFFE_ID_EMPTY_SEGMENT',
    );
    expect(captureError(() => spiffeIdFromSegments(parseTrustDomain('jia.app'), '..')).code).toBe('SPIFFE_ID_DOT_SEGMENT');
  });
});

function captureError(fn: () => unknown): SpiffeIdError {
  try {
    fn();
  } catch (error) {
    return error as SpiffeIdError;
  }
  throw new Error('expected an error');
}
