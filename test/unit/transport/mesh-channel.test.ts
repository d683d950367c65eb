import { Client, connectivityState } from '@grpc/grpc-js';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RotationListener } from '../../../shared/identity/identity-source.js';
import { svidMaterialFromParts, type SvidMaterial } from '../../../shared/identity/svid-material.js';
import { matchAny } from '../../../shared/spiffe/match.js';
import { MeshChannel, type ChannelIdentity } from '../../../shared/transport/mesh-channel.js';
import { DevCa } from '../../local/dev-ca.js';

let first: SvidMaterial;
let second: SvidMaterial;

beforeAll(async () => {
  const ca = await DevCa.create('jia.app');
  const mint = async () => {
    const svid = await ca.mintSvid('spiffe://jia.app/payment-functions');
    return svidMaterialFromParts({ ...svid, bundlePem: ca.bundlePem }, 'test');
  };
  [first, second] = await Promise.all([mint(), mint()]);
});

/** An identity whose SVID the test swaps, telling subscribers as IdentitySource does. */
function rotatingIdentity(initial: SvidMaterial) {
  let material = initial;
  const listeners = new Set<RotationListener>();
  const identity: ChannelIdentity = {
    current: async () => material,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
  return {
    identity,
    listeners,
    rotate(next: SvidMaterial, { notify = true } = {}) {
      const previous = material;
      material = next;
      if (notify) for (const listener of listeners) listener(next, previous);
    },
  };
}

function channelFor(identity: ChannelIdentity, clock = { now: 0 }, maxIdleMs = 5_000) {
  return new MeshChannel({
    service: 'contact-service',
    target: 'dns:127.0.0.1:1', // never dialled: these tests make no calls
    identity,
    authorize: matchAny(),
    maxIdleMs,
    now: () => clock.now,
  });
}

/** The grpc channel a call was given. */
function channelOfCall(mesh: MeshChannel) {
  return mesh.use(Client, async (client, lease) => ({ channel: client.getChannel(), generation: lease.generation }));
}

/** Starts a call that holds its channel until released. */
async function heldCall(mesh: MeshChannel) {
  let release!: () => void;
  let seen!: { channel: ReturnType<Client['getChannel']>; generation: number };
  const entered = new Promise<void>((resolve) => {
    void mesh.use(Client, (client, lease) => {
      seen = { channel: client.getChannel(), generation: lease.generation };
      resolve();
      return new Promise<void>((done) => (release = done));
    });
  });
  await entered;
  return { ...seen, release: () => release() };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('MeshChannel', () => {
  it('reuses one channel and one client per client type across calls', async () => {
    const mesh = channelFor(rotatingIdentity(first).identity);

    const calls = [await channelOfCall(mesh), await channelOfCall(mesh), await channelOfCall(mesh)];

    expect(new Set(calls.map((c) => c.channel)).size).toBe(1);
    expect(mesh.generation).toBe(1);
    mesh.close();
  });

  it('gives calls after a rotation a new channel while a call in flight keeps the old one until it settles', async () => {
    const { identity, rotate } = rotatingIdentity(first);
    const mesh = channelFor(identity);
    const inFlight = await heldCall(mesh);

    rotate(second);
    const after = await channelOfCall(mesh);

    expect(after.generation).toBe(2);
    expect(after.channel).not.toBe(inFlight.channel);
    expect(inFlight.channel.getConnectivityState(false)).not.toBe(connectivityState.SHUTDOWN);
    expect(mesh.openChannels).toBe(2);

    inFlight.release();
    await flush();

    expect(inFlight.channel.getConnectivityState(false)).toBe(connectivityState.SHUTDOWN);
    expect(after.channel.getConnectivityState(false)).not.toBe(connectivityState.SHUTDOWN);
    expect(mesh.openChannels).toBe(1);
    mesh.close();
  });

  it('notices new material even without a rotation event', async () => {
    const { identity, rotate } = rotatingIdentity(first);
    const mesh = channelFor(identity);
    const before = await channelOfCall(mesh);

    rotate(second, { notify: false });
    const after = await channelOfCall(mesh);

    expect(after.generation).toBe(2);
    expect(before.channel.getConnectivityState(false)).toBe(connectivityState.SHUTDOWN);
    mesh.close();
  });

  it('replaces a channel that idled longer than maxIdleMs before the next call', async () => {
    const clock = { now: 0 };
    const mesh = channelFor(rotatingIdentity(first).identity, clock, 5_000);
    const a = await channelOfCall(mesh);

    clock.now += 5_000;
    const b = await channelOfCall(mesh);
    clock.now += 5_001;
    const c = await channelOfCall(mesh);

    expect(b.channel).toBe(a.channel);
    expect(c.generation).toBe(2);
    expect(a.channel.getConnectivityState(false)).toBe(connectivityState.SHUTDOWN);
    mesh.close();
  });

  it('never counts a channel with a call in flight as idle', async () => {
    const clock = { now: 0 };
    const mesh = channelFor(rotatingIdentity(first).identity, clock, 1_000);
    const long = await heldCall(mesh);

    clock.now += 60_000;
    const other = await channelOfCall(mesh);

    expect(other.channel).toBe(long.channel);
    long.release();
    mesh.close();
  });

  it('closes idle channels at once and busy ones when their calls settle, then refuses calls', async () => {
    const { identity, listeners } = rotatingIdentity(first);
    const mesh = channelFor(identity);
    const busy = await heldCall(mesh);

    mesh.close();

    expect(listeners.size).toBe(0);
    expect(busy.channel.getConnectivityState(false)).not.toBe(connectivityState.SHUTDOWN);
    busy.release();
    await flush();
    expect(busy.channel.getConnectivityState(false)).toBe(connectivityState.SHUTDOWN);
    expect(mesh.openChannels).toBe(0);
    await expect(channelOfCall(mesh)).rejects.toMatchObject({ code: 'MESH_UNAVAILABLE', service: 'contact-service' });
  });

  it('lets the identity error through when the SVID cannot be loaded', async () => {
    const failure = new Error('no svid');
    const mesh = channelFor({ current: () => Promise.reject(failure), subscribe: () => () => true });

    await expect(channelOfCall(mesh)).rejects.toBe(failure);
    expect(mesh.generation).toBe(0);
    mesh.close();
  });
});
