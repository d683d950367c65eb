import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ContactClient } from '../../../shared/transport/contact-client.js';
import { MeshHealthClient } from '../../../shared/transport/health-client.js';
import type { MeshChannel } from '../../../shared/transport/mesh-channel.js';
import { startContactService, type ContactServiceHandle } from '../../local/contact-service.js';
import { contactChannel, createLocalMesh, fixedIdentity, type LocalMesh } from './local-mesh.js';

let mesh: LocalMesh;
let service: ContactServiceHandle;
let channel: MeshChannel;
let contacts: ContactClient;

beforeAll(async () => {
  mesh = await createLocalMesh();
  service = await startContactService({ svid: mesh.contactSvid, bundlePem: mesh.ca.bundlePem });
  // Short reconnect backoff: after stop/start and drops the channel dials again within the test.
  channel = contactChannel(service.address, fixedIdentity(mesh.functions), {
    channelOptions: { 'grpc.initial_reconnect_backoff_ms': 100, 'grpc.max_reconnect_backoff_ms': 100 },
  });
  contacts = new ContactClient(channel, { timeoutSeconds: 5 });
});

afterAll(async () => {
  channel?.close();
  await service?.close();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('the reference contact-service', () => {
  it('counts the calls its handlers answer, not health checks', async () => {
    const before = service.callCount;

    await contacts.getUserInfo('user-1');
    await contacts.getUserInfo('user-404').catch(() => undefined);
    await new MeshHealthClient(channel).check();

    expect(service.callCount - before).toBe(2);
  });

  it('answers an injected status the given number of times, then serves again', async () => {
    service.setFault({ kind: 'status', code: status.RESOURCE_EXHAUSTED, times: 2 });

    await expect(contacts.getUserInfo('user-1')).rejects.toMatchObject({ grpcCode: status.RESOURCE_EXHAUSTED });
    await expect(contacts.getUserInfo('user-1')).rejects.toMatchObject({ grpcCode: status.RESOURCE_EXHAUSTED });
    await expect(contacts.getUserInfo('user-1')).resolves.toMatchObject({ id: 'user-1' });
  });

  it('delays answers while a delay fault is set, on top of its extra latency', async () => {
    service.setFault({ kind: 'delay', ms: 150 });
    const started = performance.now();
    await contacts.getUserInfo('user-1');
    const delayed = performance.now() - started;
    service.setFault({ kind: 'none' });

    expect(delayed).toBeGreaterThanOrEqual(140);
  });

  it('drops the connection of every call while a drop fault is set', async () => {
    await contacts.getUserInfo('user-1');
    expect(service.connectionCount).toBe(1);

    service.setFault({ kind: 'drop' });
    await expect(contacts.getUserInfo('user-1')).rejects.toMatchObject({ code: 'MESH_UNAVAILABLE' });
    service.setFault({ kind: 'none' });
    await sleep(150);

    await expect(contacts.getUserInfo('user-1')).resolves.toMatchObject({ id: 'user-1' });
  });

  it('stops listening and starts again on the same port', async () => {
    const { port } = service;

    await service.stop();
    await expect(contacts.getUserInfo('user-1')).rejects.toMatchObject({ code: 'MESH_UNAVAILABLE' });
    expect(service.connectionCount).toBe(0);
    await service.start();
    await sleep(150);

    expect(service.port).toBe(port);
    await expect(contacts.getUserInfo('user-1')).resolves.toMatchObject({ id: 'user-1' });
  });
});
