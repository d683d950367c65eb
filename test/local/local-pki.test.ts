import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { svidFromSpiffeHelperFiles } from '../../shared/identity/spiffe-helper-files.js';
import { CONTACT_SERVICE_SPIFFE_ID, ensureLocalPki, FUNCTIONS_SPIFFE_ID } from './local-pki.js';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'local-pki-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('ensureLocalPki', () => {
  it('mints both SVIDs from one CA into spiffe-helper directories the identity layer reads', async () => {
    // Act
    const pki = await ensureLocalPki(dir);
    const material = await svidFromSpiffeHelperFiles(pki.functionsSvidDir);

    // Assess
    expect(pki.minted).toBe(true);
    expect(pki.functions.spiffeId).toBe(FUNCTIONS_SPIFFE_ID);
    expect(pki.contactService.spiffeId).toBe(CONTACT_SERVICE_SPIFFE_ID);
    expect(material.svid.id.toString()).toBe(FUNCTIONS_SPIFFE_ID);
    const root = new X509Certificate(pki.bundlePem);
    expect(new X509Certificate(pki.contactService.certChainPem).verify(root.publicKey)).toBe(true);
  });

  it('reuses SVIDs that are still valid', async () => {
    const first = await ensureLocalPki(dir);

    const second = await ensureLocalPki(dir);

    expect(second.minted).toBe(false);
    expect(second.functions.serialNumber).toBe(first.functions.serialNumber);
    expect(second.contactService.serialNumber).toBe(first.contactService.serialNumber);
    expect(second.functions.notAfter).toEqual(first.functions.notAfter);
  });

  it('mints again when an SVID expires within the margin', async () => {
    const first = await ensureLocalPki(dir);

    const second = await ensureLocalPki(dir, { minRemainingMs: 2 * 60 * 60_000 });

    expect(second.minted).toBe(true);
    expect(second.functions.serialNumber).not.toBe(first.functions.serialNumber);
  });

  it('mints again when a file was damaged', async () => {
    await ensureLocalPki(dir);
    await writeFile(join(dir, 'contact-service', 'svid.pem'), 'not a certificate');

    const again = await ensureLocalPki(dir);

    expect(again.minted).toBe(true);
    expect(await readFile(join(dir, 'contact-service', 'svid.pem'), 'utf8')).toBe(again.contactService.certChainPem);
  });
});
