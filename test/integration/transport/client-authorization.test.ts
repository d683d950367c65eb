import { status, type ServiceError } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MeshCallError } from '../../../shared/errors.js';
import type { SvidMaterial } from '../../../shared/identity/svid-material.js';
import { ContactClient } from '../../../shared/transport/contact-client.js';
import { startContactService, type ContactServiceHandle } from '../../local/contact-service.js';
import { DevCa, type MintedSvid } from '../../local/dev-ca.js';
import { contactChannel, createLocalMesh, fixedIdentity, FUNCTIONS_ID, materialOf, unverifiedMaterialOf, type LocalMesh } from './local-mesh.js';

const PARTNER_ID = 'spiffe://partner.example/billing';
let mesh: LocalMesh;
let partner: DevCa;
let rogue: DevCa; // claims jia.app; the service trusts its root only as partner.example's bundle
let stranger: DevCa; // in no bundle at all
let service: ContactServiceHandle;

beforeAll(async () => {
  [mesh, partner, rogue, stranger] = await Promise.all([
    createLocalMesh(),
    DevCa.create('partner.example'),
    DevCa.create('jia.app'),
    DevCa.create('jia.app'),
  ]);
  service = await startContactService({
    svid: mesh.contactSvid,
    bundlePem: mesh.ca.bundlePem,
    federatedBundles: { 'partner.example': partner.bundlePem + rogue.bundlePem },
    allowedSpiffeIds: [FUNCTIONS_ID, PARTNER_ID],
  });
});

afterAll(async () => {
  await service?.close();
});

/** Calls GetUserInfo as the client holding `material`; reports the outcome and the service's call count delta. */
async function callAs(material: SvidMaterial) {
  const before = service.callCount;
  const channel = contactChannel(service.address, fixedIdentity(material));
  try {
    const outcome = await new ContactClient(channel).getUserInfo('user-1').then(
      (user) => ({ user, error: undefined }),
      (error: unknown) => ({ user: undefined, error: error as MeshCallError }),
    );
    return { ...outcome, handlerCalls: service.callCount - before };
  } finally {
    channel.close();
  }
}

const jiaClient = (svid: MintedSvid) => materialOf(svid, mesh.ca.bundlePem);

describe('the reference contact-service authorises clients by SPIFFE ID', () => {
  it('answers PERMISSION_DENIED with "spiffe ID not allowed: <id>" to a client not on its allow-list', async () => {
    const { error, handlerCalls } = await callAs(jiaClient(await mesh.ca.mintSvid('spiffe://jia.app/intruder')));

    expect(error).toMatchObject({ code: 'MESH_PERMISSION_DENIED', grpcCode: status.PERMISSION_DENIED });
    expect((error!.cause as ServiceError).details).toBe('spiffe ID not allowed: spiffe://jia.app/intruder');
    expect(handlerCalls).toBe(0);
  });

  it('admits an allowed client whose SVID comes from an intermediate CA, and tells the handler its serial', async () => {
    const svid = await mesh.ca.mintSvid(FUNCTIONS_ID, { viaIntermediate: true });

    const { user, handlerCalls } = await callAs(jiaClient(svid));

    expect(user).toMatchObject({ id: 'user-1' });
    expect(handlerCalls).toBe(1);
    expect(service.seenClientSerials).toContain(svid.serialNumber);
  });

  it('admits an allowed client of a federated trust domain', async () => {
    const svid = await partner.mintSvid(PARTNER_ID);

    const { user } = await callAs(materialOf(svid, partner.bundlePem, { 'jia.app': mesh.ca.bundlePem }));

    expect(user).toMatchObject({ id: 'user-1' });
    expect(service.seenClientIds).toContain(PARTNER_ID);
  });

  it('answers UNAUTHENTICATED to a jia.app SVID signed by a root trusted only for another trust domain', async () => {
    const svid = await rogue.mintSvid(FUNCTIONS_ID);

    const { error, handlerCalls } = await callAs(unverifiedMaterialOf(svid, { 'jia.app': mesh.ca.bundlePem }));

    expect(error).toMatchObject({ code: 'MESH_UNAUTHENTICATED', grpcCode: status.UNAUTHENTICATED });
    expect((error!.cause as ServiceError).details).toMatch(/^client x509-svid rejected: .*does not chain to an authority of the x509 bundle for trust domain jia\.app/);
    expect(handlerCalls).toBe(0);
  });

  it('never completes a connection for a client of an untrusted CA', async () => {
    const svid = await stranger.mintSvid(FUNCTIONS_ID);

    const { error, handlerCalls } = await callAs(unverifiedMaterialOf(svid, { 'jia.app': mesh.ca.bundlePem }));

    expect(error).toMatchObject({ code: 'MESH_UNAVAILABLE', grpcCode: status.UNAVAILABLE });
    expect(handlerCalls).toBe(0);
  });

  it('applies an allow-list change to a connection that is already open', async () => {
    const channel = contactChannel(service.address, fixedIdentity(mesh.functions));
    const contacts = new ContactClient(channel);
    try {
      await contacts.getUserInfo('user-1');

      service.authorizer.removeAllowedSpiffeId(FUNCTIONS_ID);

      await expect(contacts.getUserInfo('user-1')).rejects.toMatchObject({ code: 'MESH_PERMISSION_DENIED' });
    } finally {
      service.authorizer.addAllowedSpiffeId(FUNCTIONS_ID);
      channel.close();
    }
  });
});
