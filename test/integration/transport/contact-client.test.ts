import { status, type ServiceError } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MeshCallError } from '../../../shared/errors.js';
import type { CallDescriptor, CallExecutor } from '../../../shared/transport/call-executor.js';
import { ContactClient } from '../../../shared/transport/contact-client.js';
import { MeshHealthClient } from '../../../shared/transport/health-client.js';
import type { MeshChannel } from '../../../shared/transport/mesh-channel.js';
import { startContactService, type ContactServiceHandle } from '../../local/contact-service.js';
import { FAMILIES } from '../../local/fixtures.js';
import { contactChannel, createLocalMesh, fixedIdentity, type LocalMesh } from './local-mesh.js';

const warnings: Error[] = [];
const onWarning = (warning: Error) => warnings.push(warning);
let mesh: LocalMesh;
let service: ContactServiceHandle;
let channel: MeshChannel;
let contacts: ContactClient;

beforeAll(async () => {
  process.on('warning', onWarning);
  mesh = await createLocalMesh();
  service = await startContactService({ svid: mesh.contactSvid, bundlePem: mesh.ca.bundlePem });
  channel = contactChannel(service.address, fixedIdentity(mesh.functions));
  contacts = new ContactClient(channel, { timeoutSeconds: 5 });
});

afterAll(async () => {
  process.off('warning', onWarning);
  channel?.close();
  await service?.close();
});

/** Records what an executor saw: each call's descriptor and each attempt's raw outcome. */
function recordingExecutor(timeoutMs = 5_000) {
  const seen: { call: CallDescriptor; error?: unknown }[] = [];
  const executor: CallExecutor = async (call, attempt) => {
    const entry: { call: CallDescriptor; error?: unknown } = { call };
    seen.push(entry);
    try {
      return await attempt({ deadline: new Date(Date.now() + timeoutMs), attempt: 1, signal: new AbortController().signal });
    } catch (error) {
      entry.error = error;
      throw error;
    }
  };
  return { executor, seen };
}

async function meshErrorOf(promise: Promise<unknown>): Promise<MeshCallError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(MeshCallError);
  return error as MeshCallError;
}

describe('ContactClient over mTLS', () => {
  it('gets a user as a plain typed object', async () => {
    await expect(contacts.getUserInfo('user-1')).resolves.toEqual({
      id: 'user-1',
      name: 'Ada Lovelace',
      email: 'user-1@example.test',
      familyId: 'family-1',
    });
  });

  it('gets every member of a family, of three and of fifty', async () => {
    const three = await contacts.getFamilyMembers('family-1');
    const fifty = await contacts.getFamilyMembers('family-50');

    expect(three.map((m) => m.id)).toEqual(['user-1', 'user-2', 'user-3']);
    expect(fifty).toHaveLength(50);
    expect(fifty).toEqual(FAMILIES.get('family-50'));
    expect(fifty[1]).toEqual({ id: 'member-50-01', name: 'Member 50-01', email: 'member-50-01@example.test', familyId: 'family-50' });
  });

  it('maps NOT_FOUND to MESH_NOT_FOUND, keeping the status and the grpc error', async () => {
    const error = await meshErrorOf(contacts.getUserInfo('user-404'));

    expect(error).toMatchObject({ code: 'MESH_NOT_FOUND', grpcCode: status.NOT_FOUND, service: 'contact-service', method: 'GetUserInfo' });
    expect((error.cause as ServiceError).code).toBe(status.NOT_FOUND);
    expect(error.message).toBe('contact-service/GetUserInfo failed with NOT_FOUND: user "user-404" not found');
    await expect(contacts.getFamilyMembers('family-404')).rejects.toMatchObject({ code: 'MESH_NOT_FOUND', method: 'GetFamilyMembers' });
  });

  it('runs every call through the executor, which sees the raw grpc error', async () => {
    const { executor, seen } = recordingExecutor();
    const client = new ContactClient(channel, { executor });

    await client.getFamilyMembers('family-1');
    const error = await meshErrorOf(client.getUserInfo('user-404'));

    expect(seen.map((s) => s.call)).toEqual([
      { method: 'GetFamilyMembers', idempotent: true },
      { method: 'GetUserInfo', idempotent: true },
    ]);
    expect(seen[1]!.error).not.toBeInstanceOf(MeshCallError);
    expect(seen[1]!.error).toMatchObject({ code: status.NOT_FOUND });
    expect(error.cause).toBe(seen[1]!.error);
  });

  it('hands the caller signal to the executor, so it can stop retrying', async () => {
    const { executor, seen } = recordingExecutor();
    const caller = new AbortController();

    await new ContactClient(channel, { executor }).getUserInfo('user-1', { signal: caller.signal });

    expect(seen[0]!.call).toEqual({ method: 'GetUserInfo', idempotent: true, signal: caller.signal });
  });

  it('gives every gRPC call the deadline of its attempt', async () => {
    service.setFault({ kind: 'delay', ms: 2_000 });
    try {
      const { executor } = recordingExecutor(200);
      const started = Date.now();

      const error = await meshErrorOf(new ContactClient(channel, { executor }).getUserInfo('user-1'));

      expect(error).toMatchObject({ code: 'MESH_DEADLINE_EXCEEDED', grpcCode: status.DEADLINE_EXCEEDED });
      expect(Date.now() - started).toBeLessThan(1_500);
    } finally {
      service.setFault({ kind: 'none' });
    }
  });

  it('applies timeoutSeconds as the default deadline', async () => {
    service.setFault({ kind: 'delay', ms: 2_000 });
    try {
      await expect(new ContactClient(channel, { timeoutSeconds: 0.2 }).getUserInfo('user-1')).rejects.toMatchObject({
        code: 'MESH_DEADLINE_EXCEEDED',
      });
    } finally {
      service.setFault({ kind: 'none' });
    }
  });

  it('cancels the call when the attempt signal aborts', async () => {
    service.setFault({ kind: 'delay', ms: 2_000 });
    try {
      const controller = new AbortController();
      const executor: CallExecutor = (_call, attempt) => attempt({ deadline: new Date(Date.now() + 5_000), attempt: 1, signal: controller.signal });
      const pending = new ContactClient(channel, { executor }).getUserInfo('user-1');
      setTimeout(() => controller.abort(), 100);

      await expect(pending).rejects.toMatchObject({ code: 'MESH_CANCELLED', grpcCode: status.CANCELLED });
    } finally {
      service.setFault({ kind: 'none' });
    }
  });

  it('cancels the call when the caller signal aborts', async () => {
    service.setFault({ kind: 'delay', ms: 2_000 });
    try {
      const caller = new AbortController();
      const pending = contacts.getUserInfo('user-1', { signal: caller.signal });
      setTimeout(() => caller.abort(), 100);

      await expect(pending).rejects.toMatchObject({ code: 'MESH_CANCELLED' });
    } finally {
      service.setFault({ kind: 'none' });
    }
  });

  it('reports a caller signal that timed out as a passed deadline', async () => {
    service.setFault({ kind: 'delay', ms: 2_000 });
    try {
      await expect(contacts.getUserInfo('user-1', { signal: AbortSignal.timeout(100) })).rejects.toMatchObject({
        code: 'MESH_DEADLINE_EXCEEDED',
      });
    } finally {
      service.setFault({ kind: 'none' });
    }
  });

  it.each([
    [status.UNAVAILABLE, 'MESH_UNAVAILABLE'],
    [status.RESOURCE_EXHAUSTED, 'MESH_RESOURCE_EXHAUSTED'],
    [status.INTERNAL, 'MESH_INTERNAL'],
  ])('maps a server answering status %i to %s', async (code, meshCode) => {
    service.setFault({ kind: 'status', code, times: 1 });

    await expect(contacts.getUserInfo('user-1')).rejects.toMatchObject({ code: meshCode, grpcCode: code });
    await expect(contacts.getUserInfo('user-1')).resolves.toMatchObject({ id: 'user-1' });
  });

  it('reports the calls to the server with the client certificate it presented', () => {
    expect(service.seenClientSerials).toEqual([mesh.functionsSvid.serialNumber]);
    expect(service.seenClientIds).toEqual(['spiffe://jia.app/payment-functions']);
  });

  it('dials with the service name as TLS name: no DEP0123 warning for the IP target', async () => {
    await contacts.getUserInfo('user-2');
    await new Promise((resolve) => setImmediate(resolve));

    expect(service.address).toMatch(/^127\.0\.0\.1:/);
    expect(warnings.filter((w) => (w as { code?: string }).code === 'DEP0123')).toEqual([]);
  });
});

describe('MeshHealthClient over mTLS', () => {
  it('reports SERVING, then NOT_SERVING when the service says so', async () => {
    const health = new MeshHealthClient(channel);

    expect(await health.check()).toBe('SERVING');
    expect(await health.check({ service: 'jia.contact.v1.ContactService' })).toBe('SERVING');
    service.setServingStatus(false);
    try {
      expect(await health.check()).toBe('NOT_SERVING');
    } finally {
      service.setServingStatus(true);
    }
  });

  it('maps a service the server does not know to MESH_NOT_FOUND', async () => {
    await expect(new MeshHealthClient(channel).check({ service: 'nope.v1.Nothing' })).rejects.toMatchObject({
      code: 'MESH_NOT_FOUND',
      method: 'grpc.health.v1.Health/Check',
    });
  });
});
