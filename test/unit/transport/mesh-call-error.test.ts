import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { MeshCallError, SvidError } from '../../../shared/errors.js';
import { isGrpcError, noteServerRejection, serverRejectionOf, toMeshCallError } from '../../../shared/transport/mesh-call-error.js';

const CALL = { service: 'contact-service', method: 'GetUserInfo' };

function grpcError(code: status, details: string): ServiceError {
  return Object.assign(new Error(`${code} ${status[code]}: ${details}`), { code, details, metadata: new Metadata() });
}

describe('toMeshCallError', () => {
  it.each([
    [status.NOT_FOUND, 'MESH_NOT_FOUND'],
    [status.INVALID_ARGUMENT, 'MESH_INVALID_ARGUMENT'],
    [status.PERMISSION_DENIED, 'MESH_PERMISSION_DENIED'],
    [status.UNAUTHENTICATED, 'MESH_UNAUTHENTICATED'],
    [status.UNAVAILABLE, 'MESH_UNAVAILABLE'],
    [status.DEADLINE_EXCEEDED, 'MESH_DEADLINE_EXCEEDED'],
    [status.RESOURCE_EXHAUSTED, 'MESH_RESOURCE_EXHAUSTED'],
    [status.CANCELLED, 'MESH_CANCELLED'],
    [status.INTERNAL, 'MESH_INTERNAL'],
    [status.UNKNOWN, 'MESH_INTERNAL'],
    [status.UNIMPLEMENTED, 'MESH_INTERNAL'],
    [status.FAILED_PRECONDITION, 'MESH_INTERNAL'],
  ])('maps gRPC status %i to %s, keeping the code and the error', (code, meshCode) => {
    const raw = grpcError(code, 'user "u" not found');

    const error = toMeshCallError(raw, CALL);

    expect(error).toBeInstanceOf(MeshCallError);
    expect(error).toMatchObject({ code: meshCode, grpcCode: code, service: 'contact-service', method: 'GetUserInfo', cause: raw });
    expect(error.message).toBe(`contact-service/GetUserInfo failed with ${status[code]}: user "u" not found`);
  });

  it('turns an UNAVAILABLE caused by refusing the server into MESH_SERVER_NOT_AUTHORIZED naming the peer and rule', () => {
    const raw = grpcError(status.UNAVAILABLE, 'No connection established');
    noteServerRejection(raw, { at: 1, code: 'SPIFFE_ID_NOT_ALLOWED', peerId: 'spiffe://jia.app/other', reason: 'spiffe ID not allowed: spiffe://jia.app/other', connectionError: 'x' });

    const error = toMeshCallError(raw, CALL);

    expect(error).toMatchObject({ code: 'MESH_SERVER_NOT_AUTHORIZED', grpcCode: status.UNAVAILABLE, cause: raw });
    expect(error.message).toBe(
      'contact-service/GetUserInfo refused server spiffe://jia.app/other: spiffe ID not allowed: spiffe://jia.app/other (SPIFFE_ID_NOT_ALLOWED)',
    );
    expect(serverRejectionOf(raw)?.code).toBe('SPIFFE_ID_NOT_ALLOWED');
  });

  it('says "the server" when the refused server named no single SPIFFE ID', () => {
    const raw = grpcError(status.UNAVAILABLE, 'No connection established');
    noteServerRejection(raw, { at: 1, code: 'CERT_HAS_EXPIRED', peerId: undefined, reason: 'certificate has expired', connectionError: 'certificate has expired' });

    expect(toMeshCallError(raw, CALL).message).toBe('contact-service/GetUserInfo refused the server: certificate has expired (CERT_HAS_EXPIRED)');
  });

  it('passes a MeshCallError through unchanged', () => {
    const open = new MeshCallError('MESH_BREAKER_OPEN', 'breaker open', CALL);

    expect(toMeshCallError(open, CALL)).toBe(open);
  });

  it('names the method in a MeshCallError raised without one', () => {
    const closed = new MeshCallError('MESH_UNAVAILABLE', 'the mesh channel to contact-service is closed', { service: 'contact-service', method: '' });

    expect(toMeshCallError(closed, CALL)).toMatchObject({ code: 'MESH_UNAVAILABLE', method: 'GetUserInfo', cause: closed });
  });

  it('maps anything else to MESH_INTERNAL with the error as cause', () => {
    const svid = new SvidError('SVID_EXPIRED', 'svid expired');

    expect(toMeshCallError(svid, CALL)).toMatchObject({ code: 'MESH_INTERNAL', cause: svid, grpcCode: undefined });
    expect(toMeshCallError(svid, CALL).message).toBe('contact-service/GetUserInfo failed: svid expired (SVID_EXPIRED)');
    expect(toMeshCallError('boom', CALL).message).toBe('contact-service/GetUserInfo failed: boom');
  });
});

describe('isGrpcError', () => {
  it('recognises grpc-js call errors only', () => {
    expect(isGrpcError(grpcError(status.NOT_FOUND, 'x'))).toBe(true);
    expect(isGrpcError(new SvidError('SVID_EXPIRED', 'x'))).toBe(false);
    expect(isGrpcError({ code: 5, details: 'x' })).toBe(false);
  });
});
