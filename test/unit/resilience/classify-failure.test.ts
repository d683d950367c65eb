import { status } from '@grpc/grpc-js';
import { TaskCancelledError } from 'cockatiel';
import { describe, expect, it } from 'vitest';
import { MeshCallError, type MeshCallErrorCode } from '../../../shared/errors.js';
import { breakerOutcome, classifyFailure, grpcCodeOf } from '../../../shared/resilience/index.js';
import { grpcError } from './support.js';

const where = { service: 'contact-service', method: 'GetUserInfo' };
const socketError = Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:443'), { code: 'ECONNREFUSED' });

function meshError(code: MeshCallErrorCode, grpcCode?: number): MeshCallError {
  return new MeshCallError(code, `test ${code}`, { ...where, grpcCode });
}

describe('classifyFailure', () => {
  it.each([
    ['UNAVAILABLE', grpcError(status.UNAVAILABLE)],
    ['DEADLINE_EXCEEDED', grpcError(status.DEADLINE_EXCEEDED)],
    ['RESOURCE_EXHAUSTED', grpcError(status.RESOURCE_EXHAUSTED)],
    ['INTERNAL mentioning a TLS handshake', grpcError(status.INTERNAL, 'TLS handshake failed')],
    ['UNKNOWN mentioning a reset connection', grpcError(status.UNKNOWN, 'read ECONNRESET')],
    ['INTERNAL from a RST_STREAM', grpcError(status.INTERNAL, 'Received RST_STREAM with code 2')],
    ['a Node socket error (string code)', socketError],
    ['a plain Error', new Error('boom')],
    ['a thrown string', 'boom'],
    ['MESH_SERVER_NOT_AUTHORIZED without a status', meshError('MESH_SERVER_NOT_AUTHORIZED')],
    ['MESH_UNAVAILABLE carrying UNAVAILABLE', meshError('MESH_UNAVAILABLE', status.UNAVAILABLE)],
  ])('classifies %s as transport', (_name, error) => {
    expect(classifyFailure(error)).toBe('transport');
  });

  it.each([
    ['NOT_FOUND', grpcError(status.NOT_FOUND)],
    ['INVALID_ARGUMENT', grpcError(status.INVALID_ARGUMENT)],
    ['PERMISSION_DENIED', grpcError(status.PERMISSION_DENIED)],
    ['ALREADY_EXISTS', grpcError(status.ALREADY_EXISTS)],
    ['FAILED_PRECONDITION', grpcError(status.FAILED_PRECONDITION)],
    ['UNAUTHENTICATED', grpcError(status.UNAUTHENTICATED)],
    ['UNIMPLEMENTED', grpcError(status.UNIMPLEMENTED)],
    ['INTERNAL from a server bug', grpcError(status.INTERNAL, 'nil pointer dereference')],
    ['UNKNOWN from a handler exception', grpcError(status.UNKNOWN, 'handler threw')],
    ['MESH_NOT_FOUND carrying NOT_FOUND', meshError('MESH_NOT_FOUND', status.NOT_FOUND)],
  ])('classifies %s as application', (_name, error) => {
    expect(classifyFailure(error)).toBe('application');
  });
});

describe('breakerOutcome', () => {
  it.each([
    ['a transport failure', grpcError(status.UNAVAILABLE), 'failure'],
    ['an application error', grpcError(status.NOT_FOUND), 'success'],
    ['gRPC CANCELLED', grpcError(status.CANCELLED), 'ignore'],
    ['an AbortError', new DOMException('aborted', 'AbortError'), 'ignore'],
    ["cockatiel's TaskCancelledError", new TaskCancelledError(), 'ignore'],
    ['MESH_NO_TIME_LEFT', new MeshCallError('MESH_NO_TIME_LEFT', 'late', where), 'ignore'],
    ['MESH_BREAKER_OPEN', new MeshCallError('MESH_BREAKER_OPEN', 'open', where), 'ignore'],
  ])('maps %s to %s', (_name, error, outcome) => {
    expect(breakerOutcome(error)).toBe(outcome);
  });
});

describe('grpcCodeOf', () => {
  it('reads a numeric status, a MeshCallError grpcCode, and ignores string codes', () => {
    expect(grpcCodeOf(grpcError(status.NOT_FOUND))).toBe(status.NOT_FOUND);
    expect(grpcCodeOf(new MeshCallError('MESH_UNAVAILABLE', 'x', { ...where, grpcCode: 14 }))).toBe(14);
    expect(grpcCodeOf(Object.assign(new Error('x'), { code: 'ECONNRESET' }))).toBeUndefined();
    expect(grpcCodeOf(Object.assign(new Error('x'), { code: 99 }))).toBeUndefined();
    expect(grpcCodeOf(undefined)).toBeUndefined();
  });
});
