import { X509Certificate } from 'node:crypto';
import type { DetailedPeerCertificate, PeerCertificate } from 'node:tls';
import type { Matcher } from '../spiffe/match.js';
import type { X509BundleSet } from '../spiffe/x509-bundle.js';
import { leafSpiffeId } from '../spiffe/x509-svid.js';
import { verifyX509Svid, type VerifiedX509Svid } from '../spiffe/x509-svid-verify.js';

/**
 * Rebuilds the chain a TLS peer presented, leaf first, from node's peer certificate object.
 *
 * Node's detailed form (`getPeerCertificate(true)`, what `checkServerIdentity` receives) links
 * each certificate to its issuer through `issuerCertificate`: the presented certificates in
 * issuing order, completed with the root from the local trust store, which links to itself. That
 * self-issued tail is dropped, so the result is what the peer sent (SPIRE never sends its root);
 * the X509-SVID verification anchors the path at the bundle's own copy. The abbreviated form has
 * no links and yields just the leaf.
 */
export function presentedChain(peer: PeerCertificate | DetailedPeerCertificate): X509Certificate[] {
  const chain: X509Certificate[] = [];
  const seen = new Set<PeerCertificate>();
  let current: PeerCertificate | undefined = peer;
  while (current?.raw && !seen.has(current)) {
    seen.add(current);
    const issuer: DetailedPeerCertificate | undefined = (current as Partial<DetailedPeerCertificate>).issuerCertificate;
    const selfIssued = issuer !== undefined && (issuer === current || issuer.raw?.equals(current.raw));
    if (chain.length > 0 && selfIssued) break;
    chain.push(new X509Certificate(current.raw));
    current = issuer;
  }
  return chain;
}

/**
 * The SPIFFE ID a leaf claims, for error messages about peers that failed verification; `undefined`
 * when the leaf names none or several.
 */
export function claimedSpiffeId(chain: readonly X509Certificate[]): string | undefined {
  const leaf = chain[0];
  if (!leaf) return undefined;
  try {
    return leafSpiffeId(leaf).toString();
  } catch {
    return undefined;
  }
}

/** A peer whose X.509-SVID verified and whose SPIFFE ID the policy accepted. */
export interface AuthorizedPeer extends VerifiedX509Svid {
  /** The leaf's serial number, lowercase hex. */
  serialNumber: string;
}

/**
 * Verifies a peer's presented chain as an X.509-SVID against `bundles` (so it must chain to the
 * bundle of the peer's own trust domain, and every X509-SVID rule applies), then asks `authorize`
 * about its SPIFFE ID. go-spiffe's `tlsconfig.VerifyPeerCertificate` with an `Authorizer`.
 *
 * @throws {SvidError} when the chain is not a valid X.509-SVID for these bundles at `at`.
 * @throws {SpiffeIdError} `SPIFFE_ID_NOT_ALLOWED` when `authorize` rejects the SPIFFE ID.
 */
export function authorizePeer(
  chain: readonly X509Certificate[],
  bundles: X509BundleSet,
  authorize: Matcher,
  at: Date = new Date(),
): AuthorizedPeer {
  const verified = verifyX509Svid(chain, bundles, { at });
  authorize(verified.id);
  return { ...verified, serialNumber: chain[0]!.serialNumber.toLowerCase() };
}

