import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IdentitySource } from '../../../shared/identity/identity-source.js';
import type { SvidMaterial } from '../../../shared/identity/svid-material.js';
import { ContactClient } from '../../../shared/transport/contact-client.js';
import type { MeshChannel } from '../../../shared/transport/mesh-channel.js';
import { startContactService, type ContactServiceHandle } from '../../local/contact-service.js';
import type { MintedSvid } from '../../local/dev-ca.js';
import { contactChannel, createLocalMesh, FUNCTIONS_ID, materialOf, type LocalMesh } from './local-mesh.js';

let mesh: LocalMesh;
let next: MintedSvid;
let service: ContactServiceHandle;
let channel: MeshChannel;
let source: IdentitySource;
let served: SvidMaterial;

beforeAll(async () => {
  mesh = await createLocalMesh();
  next = await mesh.ca.mintSvid(FUNCTIONS_ID);
  service = await startContactService({ svid: mesh.contactSvid, bundlePem: mesh.ca.bundlePem });
  served = mesh.functions;
  source = new IdentitySource(async () => served, 'test svid');
  channel = contactChannel(service.address, source);
});

afterAll(async () => {
  channel?.close();
  await service?.close();
});

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  expect(condition()).toBe(true);
}

describe('SVID rotation', () => {
  it('presents the new SVID on the wire without a failed call, while a call in flight finishes on the old one', async () => {
    const contacts = new ContactClient(channel, { timeoutSeconds: 5 });
    await contacts.getUserInfo('user-1');
    expect(service.seenClientSerials).toEqual([mesh.functionsSvid.serialNumber]);

    // A call that is in the server's handler when the SVID rotates.
    service.setFault({ kind: 'delay', ms: 500 });
    const finished: string[] = [];
    const inFlight = contacts.getFamilyMembers('family-1').then((members) => {
      finished.push('in-flight');
      return members;
    });
    await until(() => service.callCount === 2);
    service.setFault({ kind: 'none' });

    served = materialOf(next, mesh.ca.bundlePem);
    await source.refresh(); // tells subscribers, as a scheduled refresh would

    const afterRotation = await contacts.getUserInfo('user-2');
    finished.push('after-rotation');

    await expect(inFlight).resolves.toHaveLength(3);
    expect(afterRotation.id).toBe('user-2');
    expect(finished).toEqual(['after-rotation', 'in-flight']);
    expect(service.seenClientSerials).toEqual([mesh.functionsSvid.serialNumber, next.serialNumber]);
    expect(channel.generation).toBe(2);
    expect(channel.openChannels).toBe(1); // the old channel closed once its call finished
  });

  it('keeps presenting the new SVID on later calls', async () => {
    const contacts = new ContactClient(channel);

    await Promise.all([contacts.getUserInfo('user-1'), contacts.getFamilyMembers('family-50'), contacts.getUserInfo('user-3')]);

    expect(service.seenClientSerials).toEqual([mesh.functionsSvid.serialNumber, next.serialNumber]);
    expect(channel.generation).toBe(2);
  });
});
