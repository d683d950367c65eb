import { get, type RequestOptions } from 'node:https';
import type { PeerCertificate } from 'node:tls';
import { MeshError } from '../errors.js';
import { JwtBundle, type JwtBundleFormat } from '../spiffe/jwt-bundle.js';
import { JwtBundleError } from '../spiffe/jwt-svid-error.js';
import { matchId } from '../spiffe/match.js';
import type { SpiffeId } from '../spiffe/spiffe-id.js';
import type { TrustDomain } from '../spiffe/trust-domain.js';
import type { X509BundleSet } from '../spiffe/x509-bundle.js';
import { authorizePeer, presentedChain } from '../transport/peer-chain.js';
import type { JwtBundleFetch } from './jwt-bundle-cache.js';

/** A SPIFFE bundle is a few keys; anything much larger is not one. */
const MAX_BODY_BYTES = 1024 * 1024;

export interface HttpsBundleEndpoint {
  /** Where the bundle is served: a SPIFFE bundle endpoint, or the OIDC discovery provider's `/keys`. */
  url: URL;
  format: JwtBundleFormat;
  /**
   * `https_spiffe` profile (SPIFFE federation): the endpoint's SPIFFE ID; its X.509-SVID must
   * verify against `x509Bundles` and carry exactly this ID. Absent: `https_web`, the system's
   * Web PKI roots and a hostname check.
   */
  spiffe?: { id: SpiffeId; x509Bundles: () => Promise<X509BundleSet> };
  /** Extra roots for `https_web` (tests); the system roots are used otherwise. */
  ca?: string;
}

function fetchFailed(trustDomain: TrustDomain, url: URL, reason: string, cause?: unknown): JwtBundleError {
  return new JwtBundleError(
    'JWT_BUNDLE_FETCH_FAILED',
    `jwt bundle for trust domain "${trustDomain.name}" could not be fetched from ${url.href}: ${reason}`,
    cause === undefined ? undefined : { cause },
  );
}

/**
 * Fetches a trust domain's JWT bundle over HTTPS, authenticating the endpoint by Web PKI
 * (`https_web`) or by its X.509-SVID against the bundles the function already holds
 * (`https_spiffe`, as go-spiffe's `federation.FetchBundle` with `WithSPIFFEAuth`). No connection
 * is kept alive: a refresh happens every few minutes, and a socket kept across a Lambda freeze is
 * dead anyway.
 *
 * @throws {JwtBundleError} `JWT_BUNDLE_FETCH_FAILED` (status, network, TLS, size),
 *   `JWT_BUNDLE_ENDPOINT_NOT_AUTHORIZED` (https_spiffe refusal) or `JWT_BUNDLE_MALFORMED`.
 */
export function httpsBundleFetcher(trustDomain: TrustDomain, endpoint: HttpsBundleEndpoint): JwtBundleFetch {
  if (endpoint.url.protocol !== 'https:') {
    throw new JwtBundleError('JWT_BUNDLE_FETCH_FAILED', `jwt bundle url must use https, got ${JSON.stringify(endpoint.url.href)}`);
  }
  return async function fetchJwtBundleOverHttps(signal) {
    let refusal: MeshError | undefined;
    const options: RequestOptions = { agent: false, signal, headers: { accept: 'application/json' } };
    if (endpoint.spiffe) {
      const { id } = endpoint.spiffe;
      const bundles = await endpoint.spiffe.x509Bundles();
      options.ca = bundles.authoritiesPem();
      // SVIDs carry only a URI SAN: the SPIFFE check replaces the hostname check.
      options.checkServerIdentity = (_host: string, cert: PeerCertificate) => {
        try {
          authorizePeer(presentedChain(cert), bundles, matchId(id));
          return undefined;
        } catch (error) {
          refusal = new JwtBundleError('JWT_BUNDLE_ENDPOINT_NOT_AUTHORIZED', `bundle endpoint ${endpoint.url.host} is not ${id.toString()}: ${(error as Error).message}`, { cause: error });
          return refusal;
        }
      };
    } else if (endpoint.ca !== undefined) {
      options.ca = endpoint.ca;
    }
    const body = await new Promise<string>((resolve, reject) => {
      const request = get(endpoint.url, options, (response) => {
        if (response.statusCode !== 200) {
          response.resume();
          reject(fetchFailed(trustDomain, endpoint.url, `status ${response.statusCode}`));
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_BODY_BYTES) {
            request.destroy(fetchFailed(trustDomain, endpoint.url, `the body exceeds ${MAX_BODY_BYTES} bytes`));
            return;
          }
          chunks.push(chunk);
        });
        response.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
        response.on('error', reject);
      });
      request.on('error', (error) => {
        if (signal.aborted) reject(signal.reason);
        else if (refusal) reject(refusal);
        else if (error instanceof JwtBundleError) reject(error);
        else reject(fetchFailed(trustDomain, endpoint.url, (error as NodeJS.ErrnoException).code ?? error.message, error));
      });
    });
    return JwtBundle.parse(trustDomain, body, endpoint.format);
  };
}
