import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MeshCallError } from '../../../shared/errors.js';
import type { SvidMaterial } from '../../../shared/identity/svid-material.js';
import { ContactClient } from '../../../shared/transport/contact-client.js';
import { MeshHealthClient } from '../../../shared/transport/health-client.js';
import { startContactService, type ContactServiceHandle } from '../../local/contact-service.js';
import { DevCa, type MintedSvid } from '../../local/dev-ca.js';
import { CONTACT_ID, contactChannel, createLocalMesh, fixedIdentity, materialOf, type LocalMesh } from './local-mesh.js';

const HOUR = 3_600_000;
let mesh: LocalMesh;
let rogue: DevCa; // claims jia.app; the functions trust its root only as partner.example's bundle
let stranger: DevCa; // in no bundle at all
let client: SvidMaterial;
const services: ContactServiceHandle[] = [];

beforeAll(async () => {
  [mesh, rogue, stranger] = await Promise.all([createLocalMesh(), DevCa.create('jia.app'), DevCa.create('jia.app')]);
  client = materialOf(mesh.functionsSvid, mesh.ca.bundlePem, { 'partner.example': rogue.bundlePem });
});

afterAll(async () => {
  await Promise.all(services.map((s) => s.close()));
});

/** Serves the contact-service with `svid` (valid or not) and calls GetUserInfo on it. */
async function callServerWith(svid: MintedSvid) {
  const service = await startContactService({ svid, bundlePem: mesh.ca.bundlePem, allowInvalidSvid: true });
  services.push(service);
  const channel = contactChannel(service.address, fixedIdentity(client));
  try {
    const outcome = await new ContactClient(channel, { timeoutSeconds: 5 }).getUserInfo('user-1').then(
      (user) => ({ user, error: undefined as unknown }),
      (error: unknown) => ({ user: undefined, error }),
    );
    return { ...outcome, service, channel };
  } finally {
    channel.close();
  }
}

describe('the functions refuse a contact-service that fails the SPIFFE check', () => {
  it.each<[string, () => Promise<MintedSvid>, string, string | undefined]>([
    ['the wrong SPIFFE ID', () => mesh.ca.mintSvid('spiffe://jia.app/ledger'), 'SPIFFE_ID_NOT_ALLOWED', 'spiffe://jia.app/ledger'],
    ['another CA claiming jia.app, trusted only for partner.example', () => rogue.mintSvid(CONTACT_ID), 'SVID_UNTRUSTED', CONTACT_ID],
    [
      'a trust domain we hold no bundle for',
      () => rogue.mintSvid('spiffe://elsewhere.example/contact-service'),
      'SVID_NO_BUNDLE_FOR_TRUST_DOMAIN',
      'spiffe://elsewhere.example/contact-service',
    ],
    ['an untrusted CA', () => stranger.mintSvid(CONTACT_ID), 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', undefined],
    [
      'an expired certificate',
      () => mesh.ca.mintSvid(CONTACT_ID, { notBefore: new Date(Date.now() - 2 * HOUR), notAfter: new Date(Date.now() - HOUR) }),
      'CERT_HAS_EXPIRED',
      undefined,
    ],
    ['two URI SANs', () => mesh.ca.mintSvid(CONTACT_ID, { uris: [CONTACT_ID, 'spiffe://jia.app/ledger'] }), 'SVID_MULTIPLE_URI_SANS', undefined],
    ['no URI SAN', () => mesh.ca.mintSvid(CONTACT_ID, { uris: [] }), 'SVID_NO_URI_SAN', undefined],
    ['a CA leaf', () => mesh.ca.mintSvid(CONTACT_ID, { isCa: true }), 'SVID_LEAF_IS_CA', CONTACT_ID],
    [
      'a leaf allowed to sign certificates',
      () => mesh.ca.mintSvid(CONTACT_ID, { keyUsage: ['digitalSignature', 'keyCertSign'] }),
      'SVID_LEAF_HAS_KEY_CERT_SIGN',
      CONTACT_ID,
    ],
  ])('refuses a server with %s', async (_what, mint, rule, peerId) => {
    const { error, user, service } = await callServerWith(await mint());

    expect(user).toBeUndefined();
    expect(error).toBeInstanceOf(MeshCallError);
    expect(error).toMatchObject({ code: 'MESH_SERVER_NOT_AUTHORIZED', grpcCode: status.UNAVAILABLE, service: 'contact-service', method: 'GetUserInfo' });
    const message = (error as MeshCallError).message;
    expect(message).toContain(`(${rule})`);
    expect(message).toMatch(peerId ? `refused server ${peerId}: ` : 'refused the server: ');
    expect(service.callCount).toBe(0);
  });

  it('refuses it for health checks too', async () => {
    const service = await startContactService({ svid: await mesh.ca.mintSvid('spiffe://jia.app/ledger'), bundlePem: mesh.ca.bundlePem });
    services.push(service);
    const channel = contactChannel(service.address, fixedIdentity(client));

    await expect(new MeshHealthClient(channel).check()).rejects.toMatchObject({ code: 'MESH_SERVER_NOT_AUTHORIZED' });
    channel.close();
  });

  it('accepts the right server, also when its SVID comes from an intermediate CA', async () => {
    const { user, service } = await callServerWith(await mesh.ca.mintSvid(CONTACT_ID, { viaIntermediate: true }));

    expect(user).toMatchObject({ id: 'user-1' });
    expect(service.callCount).toBe(1);
  });

  it('keeps naming the refusal while grpc-js backs off, and stops once the server is merely gone', async () => {
    const service = await startContactService({ svid: await mesh.ca.mintSvid('spiffe://jia.app/ledger'), bundlePem: mesh.ca.bundlePem });
    services.push(service);
    const channel = contactChannel(service.address, fixedIdentity(client), {
      channelOptions: { 'grpc.initial_reconnect_backoff_ms': 300, 'grpc.max_reconnect_backoff_ms': 300 },
    });
    const contacts = new ContactClient(channel);
    try {
      await expect(contacts.getUserInfo('user-1')).rejects.toMatchObject({ code: 'MESH_SERVER_NOT_AUTHORIZED' });
      await expect(contacts.getUserInfo('user-1')).rejects.toMatchObject({ code: 'MESH_SERVER_NOT_AUTHORIZED' });

      await service.stop();
      await new Promise((resolve) => setTimeout(resolve, 500)); // past the backoff: the next call dials again

      await expect(contacts.getUserInfo('user-1')).rejects.toMatchObject({ code: 'MESH_UNAVAILABLE' });
    } finally {
      channel.close();
    }
  });

  it('reports an unreachable server as MESH_UNAVAILABLE, not as a refusal', async () => {
    const service = await startContactService({ svid: mesh.contactSvid, bundlePem: mesh.ca.bundlePem });
    await service.close();
    const channel = contactChannel(service.address, fixedIdentity(client));

    await expect(new ContactClient(channel).getUserInfo('user-1')).rejects.toMatchObject({ code: 'MESH_UNAVAILABLE' });
    channel.close();
  });
});
