import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IdentityError } from '../../../shared/errors.js';
import { svidFromSpiffeHelperFiles } from '../../../shared/identity/spiffe-helper-files.js';
import { DevCa, writeSpiffeHelperFiles } from '../../local/dev-ca.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'svid-files-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('svidFromSpiffeHelperFiles', () => {
  it('reads svid.pem, svid_key.pem and svid_bundle.pem', async () => {
    const ca = await DevCa.create('jia.app');
    const svid = await ca.mintSvid('spiffe://jia.app/payment-functions');
    await writeSpiffeHelperFiles(dir, svid, ca.bundlePem);

    const material = await svidFromSpiffeHelperFiles(dir);

    expect(material.svid.id.toString()).toBe('spiffe://jia.app/payment-functions');
    expect(material.svid.serialNumber).toBe(svid.serialNumber);
  });

  it('names the file it cannot read', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'svid-empty-'));

    const error = (await svidFromSpiffeHelperFiles(empty).catch((e: unknown) => e)) as IdentityError;

    expect(error).toBeInstanceOf(IdentityError);
    expect(error.code).toBe('IDENTITY_FILES_UNREADABLE');
    expect(error.message).toContain(join(empty, 'svid'));
    await rm(empty, { recursive: true, force: true });
  });
});
