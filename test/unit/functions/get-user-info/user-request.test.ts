import { describe, expect, it } from 'vitest';
import { httpErrorOf, UserRequestError, userRequestOf } from '../../../../functions/get-user-info/user-request.js';
import { MeshCallError } from '../../../../shared/errors.js';

const meshError = (code: ConstructorParameters<typeof MeshCallError>[0]) =>
  new MeshCallError(code, `${code} happened`, { service: 'contact-service', method: 'GetUserInfo' });

describe('userRequestOf', () => {
  it('reads a direct invoke', () => {
    expect(userRequestOf({ userId: 'user-1' })).toEqual({ kind: 'direct', userId: 'user-1' });
  });

  it('reads the path parameter of an API Gateway request, decoded', () => {
    expect(userRequestOf({ requestContext: {}, routeKey: 'GET /users/{userId}', pathParameters: { userId: 'a%2Fb' } })).toEqual({
      kind: 'http',
      userId: 'a/b',
    });
  });

  it.each([[{}], [{ userId: '' }], [{ userId: 42 }], [null]])('rejects %j naming the value', (event) => {
    expect(() => userRequestOf(event)).toThrow(UserRequestError);
  });
});

describe('httpErrorOf', () => {
  it('answers 404 for MESH_NOT_FOUND', () => {
    expect(httpErrorOf(meshError('MESH_NOT_FOUND'), 1).statusCode).toBe(404);
  });

  it.each(['MESH_UNAVAILABLE', 'MESH_BREAKER_OPEN', 'MESH_DEADLINE_EXCEEDED', 'MESH_NO_TIME_LEFT'] as const)(
    'answers 503 with Retry-After for %s',
    (code) => {
      const answer = httpErrorOf(meshError(code), 60);

      expect(answer.statusCode).toBe(503);
      expect(answer.headers?.['retry-after']).toBe('60');
      expect(JSON.parse(answer.body).error.code).toBe(code);
    },
  );

  it('answers 500 for anything else without leaking an untyped message', () => {
    const answer = httpErrorOf(new Error('secret internals'), 1);

    expect(answer.statusCode).toBe(500);
    expect(answer.body).not.toContain('secret internals');
  });
});
