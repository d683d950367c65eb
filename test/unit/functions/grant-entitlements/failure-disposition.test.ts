import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { dispositionOf } from '../../../../functions/grant-entitlements/failure-disposition.js';
import { PoisonedRecordError } from '../../../../functions/grant-entitlements/grant-record.js';
import { EntitlementStoreError } from '../../../../shared/entitlements/entitlement-store-error.js';
import { MeshCallError, type MeshCallErrorCode } from '../../../../shared/errors.js';
import { toMeshCallError } from '../../../../shared/transport/mesh-call-error.js';
import { grpcError } from '../../resilience/support.js';

const where = { service: 'contact-service', method: 'GetUserInfo' };
const meshError = (code: MeshCallErrorCode) => new MeshCallError(code, `test ${code}`, where);

describe('dispositionOf a failed record', () => {
  it.each([
    ['the contact-service is UNAVAILABLE', toMeshCallError(grpcError(status.UNAVAILABLE), where)],
    ['its call ran past the deadline', toMeshCallError(grpcError(status.DEADLINE_EXCEEDED), where)],
    ['its breaker is open', meshError('MESH_BREAKER_OPEN')],
    ['its bulkhead is full', meshError('MESH_BULKHEAD_FULL')],
    ['the TLS handshake failed', toMeshCallError(grpcError(status.UNKNOWN, 'TLS handshake failed'), where)],
  ])('waits when %s', (_, error) => {
    expect(dispositionOf(error)).toBe('wait');
  });

  it('fails a poisoned record fast', () => {
    expect(dispositionOf(new PoisonedRecordError('GRANT_RECORD_NOT_JSON', 'record m-1 body is not JSON', 'm-1'))).toBe('poisoned');
  });

  it.each([
    ['the service answered with an error', toMeshCallError(grpcError(status.INVALID_ARGUMENT), where)],
    ['the Lambda ran out of time', meshError('MESH_NO_TIME_LEFT')],
    ['an entitlement write failed', new EntitlementStoreError('ENTITLEMENT_WRITE_FAILED', 'write failed')],
    ['something unexpected broke', new Error('boom')],
  ])('retries after the queue\'s visibility timeout when %s', (_, error) => {
    expect(dispositionOf(error)).toBe('retry');
  });
});
