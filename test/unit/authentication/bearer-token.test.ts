import { describe, expect, it } from 'vitest';
import { bearerTokenOf, BearerTokenError } from '../../../shared/authentication/bearer-token.js';

const TOKEN = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln';

describe('bearerTokenOf', () => {
  it.each([
    ['an HTTP API (v2) lower-case header', { headers: { authorization: `Bearer ${TOKEN}` } }],
    ['a REST API (v1) header in the client\'s case', { headers: { Authorization: `Bearer ${TOKEN}` }, multiValueHeaders: { Authorization: [`Bearer ${TOKEN}`] } }],
    ['a lower-case scheme', { headers: { authorization: `bearer ${TOKEN}` } }],
  ])('reads the token of %s', (_name, request) => {
    expect(bearerTokenOf(request)).toBe(TOKEN);
  });

  it.each([
    ['no headers at all', {}, 'AUTH_NO_BEARER_TOKEN'],
    ['no authorization header', { headers: { accept: 'application/json' } }, 'AUTH_NO_BEARER_TOKEN'],
    ['the Basic scheme', { headers: { authorization: 'Basic dXNlcjpwYXNz' } }, 'AUTH_MALFORMED_AUTHORIZATION'],
    ['a scheme without a token', { headers: { authorization: 'Bearer' } }, 'AUTH_MALFORMED_AUTHORIZATION'],
    ['two tokens', { headers: { authorization: `Bearer ${TOKEN} ${TOKEN}` } }, 'AUTH_MALFORMED_AUTHORIZATION'],
    ['two authorization headers (v1)', { headers: { Authorization: `Bearer ${TOKEN}` }, multiValueHeaders: { Authorization: [`Bearer ${TOKEN}`, 'Bearer other'] } }, 'AUTH_MALFORMED_AUTHORIZATION'],
  ])('refuses %s with %s, never quoting the header', (_name, request, code) => {
    let error: unknown;
    try {
      bearerTokenOf(request);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(BearerTokenError);
    expect((error as BearerTokenError).code).toBe(code);
    expect((error as BearerTokenError).message).not.toContain(TOKEN);
    expect((error as BearerTokenError).message).not.toContain('dXNlcjpwYXNz');
  });
});
