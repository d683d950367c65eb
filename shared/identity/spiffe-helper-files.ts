import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { IdentityError } from '../errors.js';
import { svidMaterialFromParts, type SvidMaterial } from './svid-material.js';

/** spiffe-helper's default file names (`svid_file_name`, `svid_key_file_name`, `svid_bundle_file_name`). */
export const SPIFFE_HELPER_FILES = {
  certChain: 'svid.pem',
  privateKey: 'svid_key.pem',
  bundle: 'svid_bundle.pem',
} as const;

/**
 * Reads an X.509-SVID from the files spiffe-helper writes into `dir`, for local use (`SVID_DIR`).
 *
 * @throws {IdentityError} `IDENTITY_FILES_UNREADABLE` naming the file, or the codes of
 *   {@link svidMaterialFromParts}.
 */
export async function svidFromSpiffeHelperFiles(dir: string, at: Date = new Date()): Promise<SvidMaterial> {
  const read = async (name: string): Promise<string> => {
    const path = join(dir, name);
    try {
      return await readFile(path, 'utf8');
    } catch (error) {
      throw new IdentityError('IDENTITY_FILES_UNREADABLE', `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`, {
        cause: error,
      });
    }
  };
  const [certChainPem, privateKeyPem, bundlePem] = await Promise.all([
    read(SPIFFE_HELPER_FILES.certChain),
    read(SPIFFE_HELPER_FILES.privateKey),
    read(SPIFFE_HELPER_FILES.bundle),
  ]);
  return svidMaterialFromParts({ certChainPem, privateKeyPem, bundlePem }, `files in ${dir}`, at);
}
