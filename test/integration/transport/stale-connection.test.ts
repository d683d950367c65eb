import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ContactClient } from '../../../shared/transport/contact-client.js';
import type { MeshChannel } from '../../../shared/transport/mesh-channel.js';
import { startContactService, type ContactServiceHandle } from '../../local/contact-service.js';
import { startTcpProxy, type TcpProxy } from '../../local/tcp-proxy.js';
import { contactChannel, createLocalMesh, fixedIdentity, type LocalMesh } from './local-mesh.js';

let mesh: LocalMesh;
let service: ContactServiceHandle;
const proxies: TcpProxy[] = [];
const channels: MeshChannel[] = [];

beforeAll(async () => {
  mesh = await createLocalMesh();
  service = await startContactService({ svid: mesh.contactSvid, bundlePem: mesh.ca.bundlePem });
});

afterAll(async () => {
  for (const channel of channels) channel.close();
  await Promise.all(proxies.map((p) => p.close()));
  await service?.close();
});

/**
 * Blocks the event loop for `ms`: no timer, socket event or keepalive runs, as while AWS freezes
 * a Lambda between invocations; time passes meanwhile.
 */
function freeze(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** A warm client whose channel goes through a proxy that can drop it silently. */
async function warmClientThroughProxy(maxIdleMs: number, timeoutSeconds: number) {
  const proxy = await startTcpProxy({ target: { host: '127.0.0.1', port: service.port } });
  proxies.push(proxy);
  const channel = contactChannel(proxy.address, fixedIdentity(mesh.functions), { maxIdleMs });
  channels.push(channel);
  const contacts = new ContactClient(channel, { timeoutSeconds });
  await contacts.getUserInfo('user-1');
  return { proxy, channel, contacts };
}

async function timed<T>(promise: Promise<T>) {
  const started = performance.now();
  const outcome = await promise.then(
    (value) => ({ value, error: undefined as unknown }),
    (error: unknown) => ({ value: undefined, error }),
  );
  return { ...outcome, ms: performance.now() - started };
}

describe('a connection dropped silently while the Lambda was frozen', () => {
  it('does not eat the next call: the idle channel is replaced before the call', async () => {
    const { proxy, channel, contacts } = await warmClientThroughProxy(300, 2);

    expect(proxy.blackhole()).toBe(1);
    freeze(400);
    const { value, error, ms } = await timed(contacts.getUserInfo('user-1'));

    expect(error).toBeUndefined();
    expect(value).toMatchObject({ id: 'user-1' });
    expect(ms).toBeLessThan(1_000);
    expect(channel.generation).toBe(2);
    expect(proxy.accepted).toBe(2);
  });

  it('would hang the call to its deadline on the old connection without recycling', async () => {
    const { proxy, contacts } = await warmClientThroughProxy(Number.POSITIVE_INFINITY, 0.7);

    proxy.blackhole();
    freeze(400);
    const { error, ms } = await timed(contacts.getUserInfo('user-1'));

    expect(error).toMatchObject({ code: 'MESH_DEADLINE_EXCEEDED' });
    expect(ms).toBeGreaterThanOrEqual(650);
    expect(proxy.accepted).toBe(1);
  });

  it('keeps using a channel that was not idle for long', async () => {
    const { proxy, channel, contacts } = await warmClientThroughProxy(60_000, 2);

    await contacts.getUserInfo('user-2');

    expect(channel.generation).toBe(1);
    expect(proxy.accepted).toBe(1);
  });

  it('survives a connection the server reset during the freeze', async () => {
    const { contacts } = await warmClientThroughProxy(60_000, 2);

    service.setFault({ kind: 'drop' });
    service.setFault({ kind: 'none' });
    freeze(200);
    const { value, ms } = await timed(contacts.getUserInfo('user-3'));

    expect(value).toMatchObject({ id: 'user-3' });
    expect(ms).toBeLessThan(1_000);
  });
});
