import { readFile } from 'node:fs/promises';
import { JwtBundle, type JwtBundleFormat } from '../spiffe/jwt-bundle.js';
import { JwtBundleError } from '../spiffe/jwt-svid-error.js';
import type { TrustDomain } from '../spiffe/trust-domain.js';
import type { JwtBundleFetch } from './jwt-bundle-cache.js';

/**
 * Reads a trust domain's JWT bundle from a file, e.g. what `spire-server bundle show -format
 * spiffe` writes, or the dev CA's `jwt-bundle.json` locally. Read again at every refresh.
 *
 * @throws {JwtBundleError} `JWT_BUNDLE_UNREADABLE` naming the path, or `JWT_BUNDLE_MALFORMED`.
 */
export function fileBundleFetcher(trustDomain: TrustDomain, path: string, format: JwtBundleFormat = 'spiffe'): JwtBundleFetch {
  return async function fetchJwtBundleFile(signal) {
    let text: string;
    try {
      text = await readFile(path, { encoding: 'utf8', signal });
    } catch (cause) {
      if (signal.aborted) throw signal.reason;
      const reason = (cause as NodeJS.ErrnoException).code ?? 'read failed';
      throw new JwtBundleError('JWT_BUNDLE_UNREADABLE', `jwt bundle file for trust domain "${trustDomain.name}" cannot be read: ${path} (${reason})`, { cause });
    }
    return JwtBundle.parse(trustDomain, text, format);
  };
}
