/**
 * What the transport integration tests share: a dev CA for jia.app, SVIDs for the functions and
 * the contact-service, identities built from them, and a contact channel factory.
 */
import type { RotationListener } from '../../../shared/identity/identity-source.js';
import { svidMaterialFromParts, type SvidMaterial } from '../../../shared/identity/svid-material.js';
import { matchId, type Matcher } from '../../../shared/spiffe/match.js';
import { parseSpiffeId } from '../../../shared/spiffe/spiffe-id.js';
import { parseTrustDomain } from '../../../shared/spiffe/trust-domain.js';
import { X509Bundle, X509BundleSet } from '../../../shared/spiffe/x509-bundle.js';
import { parseX509Svid } from '../../../shared/spiffe/x509-svid.js';
import { MeshChannel, type ChannelIdentity, type MeshChannelOptions } from '../../../shared/transport/mesh-channel.js';
import { DevCa, type MintedSvid } from '../../local/dev-ca.js';

export const FUNCTIONS_ID = 'spiffe://jia.app/payment-functions';
export const CONTACT_ID = 'spiffe://jia.app/contact-service';

export interface LocalMesh {
  ca: DevCa;
  functionsSvid: MintedSvid;
  contactSvid: MintedSvid;
  /** The functions' SVID material, verified against the jia.app bundle. */
  functions: SvidMaterial;
}

export async function createLocalMesh(): Promise<LocalMesh> {
  const ca = await DevCa.create('jia.app');
  const [functionsSvid, contactSvid] = await Promise.all([ca.mintSvid(FUNCTIONS_ID), ca.mintSvid(CONTACT_ID)]);
  return { ca, functionsSvid, contactSvid, functions: materialOf(functionsSvid, ca.bundlePem) };
}

export function materialOf(svid: MintedSvid, bundlePem: string, federatedBundles?: Record<string, string>): SvidMaterial {
  return svidMaterialFromParts({ ...svid, bundlePem, ...(federatedBundles ? { federatedBundles } : {}) }, 'test');
}

/**
 * Material as a client would hold it, without checking the SVID against the bundles: for clients
 * that are wrong on purpose (an SVID from a CA the server does not trust for its trust domain).
 */
export function unverifiedMaterialOf(svid: MintedSvid, bundles: Record<string, string>): SvidMaterial {
  const set = new X509BundleSet(Object.entries(bundles).map(([td, pem]) => X509Bundle.parse(parseTrustDomain(td), pem)));
  const parsed = parseX509Svid(svid.certChainPem, svid.privateKeyPem);
  return { svid: parsed, bundles: set, ownBundle: set.get(parsed.id.trustDomain) ?? set.bundles[0]! };
}

/** An identity holding `material` until the test rotates it; subscribers hear of each rotation. */
export function fixedIdentity(material: SvidMaterial): ChannelIdentity & { rotate(next: SvidMaterial): void } {
  let current = material;
  const listeners = new Set<RotationListener>();
  return {
    current: async () => current,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    rotate(next) {
      const previous = current;
      current = next;
      for (const listener of listeners) listener(next, previous);
    },
  };
}

export function expectServer(id: string = CONTACT_ID): Matcher {
  return matchId(parseSpiffeId(id));
}

/** A channel to the contact-service at `address` (`host:port`), authorising `spiffe://jia.app/contact-service`. */
export function contactChannel(
  address: string,
  identity: ChannelIdentity,
  options: Partial<Omit<MeshChannelOptions, 'target' | 'identity'>> = {},
): MeshChannel {
  return new MeshChannel({ service: 'contact-service', target: `dns:${address}`, identity, authorize: expectServer(), ...options });
}
