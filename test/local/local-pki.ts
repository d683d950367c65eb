/**
 * The local mesh's dev SPIFFE PKI, kept on disk so repeated CLI runs reuse it: a trust bundle and
 * two SVIDs from one dev CA, the functions' and the reference contact-service's, each in
 * spiffe-helper's file layout (what `SVID_DIR` points at). The CA key itself is never written:
 * when either SVID is about to expire, a fresh CA mints both again.
 *
 * ```
 * <dir>/payment-functions/{svid.pem,svid_key.pem,svid_bundle.pem}
 * <dir>/contact-service/{svid.pem,svid_key.pem,svid_bundle.pem}
 * ```
 */
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DevCa, writeSpiffeHelperFiles, type MintedSvid } from './dev-ca.js';
import { CONTACT_SERVICE_SPIFFE_ID, FUNCTIONS_SPIFFE_ID } from './local-identities.js';
import { SPIFFE_HELPER_FILES } from './svid-outputs.js';

export { CONTACT_SERVICE_SPIFFE_ID, FUNCTIONS_SPIFFE_ID };

export interface LocalPki {
  bundlePem: string;
  functions: MintedSvid;
  contactService: MintedSvid;
  /** The functions' spiffe-helper directory: what `SVID_DIR` is set to. */
  functionsSvidDir: string;
  /** Whether the SVIDs were minted now (false: reused from disk). */
  minted: boolean;
}

export interface LocalPkiOptions {
  /** An SVID expiring sooner than this is replaced. */
  minRemainingMs: number;
}

export const LOCAL_PKI_DEFAULTS: LocalPkiOptions = { minRemainingMs: 10 * 60_000 };

const DIRECTORIES = { functions: 'payment-functions', contactService: 'contact-service' } as const;

/**
 * Returns the PKI kept in `dir`, minting a new CA and both SVIDs when a file is missing, does not
 * parse, or an SVID expires within `minRemainingMs`.
 */
export async function ensureLocalPki(dir: string, opts: Partial<LocalPkiOptions> = {}): Promise<LocalPki> {
  const options = { ...LOCAL_PKI_DEFAULTS, ...opts };
  const functionsSvidDir = join(dir, DIRECTORIES.functions);
  const existing = await readPki(dir).catch(() => undefined);
  const fresh = (svid: MintedSvid) => svid.notAfter.getTime() - Date.now() > options.minRemainingMs;
  if (existing && fresh(existing.functions) && fresh(existing.contactService)) {
    return { ...existing, functionsSvidDir, minted: false };
  }
  const ca = await DevCa.create('jia.app');
  const [functions, contactService] = await Promise.all([ca.mintSvid(FUNCTIONS_SPIFFE_ID), ca.mintSvid(CONTACT_SERVICE_SPIFFE_ID)]);
  await writeSpiffeHelperFiles(functionsSvidDir, functions, ca.bundlePem);
  await writeSpiffeHelperFiles(join(dir, DIRECTORIES.contactService), contactService, ca.bundlePem);
  return { bundlePem: ca.bundlePem, functions, contactService, functionsSvidDir, minted: true };
}

async function readPki(dir: string): Promise<Omit<LocalPki, 'functionsSvidDir' | 'minted'>> {
  const [functions, contactService] = await Promise.all([
    readSvid(join(dir, DIRECTORIES.functions), FUNCTIONS_SPIFFE_ID),
    readSvid(join(dir, DIRECTORIES.contactService), CONTACT_SERVICE_SPIFFE_ID),
  ]);
  if (functions.bundlePem !== contactService.bundlePem) throw new Error('the two SVIDs have different bundles');
  return { bundlePem: functions.bundlePem, functions: functions.svid, contactService: contactService.svid };
}

/** Reads one spiffe-helper directory back into a {@link MintedSvid}. @throws when a file is missing or wrong. */
async function readSvid(dir: string, spiffeId: string): Promise<{ svid: MintedSvid; bundlePem: string }> {
  const [certChainPem, privateKeyPem, bundlePem] = await Promise.all(
    [SPIFFE_HELPER_FILES.certChain, SPIFFE_HELPER_FILES.privateKey, SPIFFE_HELPER_FILES.bundle].map((f) => readFile(join(dir, f), 'utf8')),
  );
  const leaf = new X509Certificate(certChainPem!);
  if (leaf.subjectAltName !== `URI:${spiffeId}`) throw new Error(`${dir} does not hold an SVID for ${spiffeId}`);
  const root = new X509Certificate(bundlePem!);
  if (!leaf.checkIssued(root) || !leaf.verify(root.publicKey)) throw new Error(`${dir}: the SVID is not issued by the bundle`);
  return {
    svid: {
      spiffeId,
      certChainPem: certChainPem!,
      privateKeyPem: privateKeyPem!,
      serialNumber: leaf.serialNumber.toLowerCase(),
      notAfter: leaf.validToDate,
    },
    bundlePem: bundlePem!,
  };
}
