import { X509Certificate } from 'node:crypto';
import type { DetailedPeerCertificate } from 'node:tls';
import { beforeAll, describe, expect, it } from 'vitest';
import { SpiffeIdError, SvidError } from '../../../shared/errors.js';
import { matchId } from '../../../shared/spiffe/match.js';
import { parseCertificatesPem } from '../../../shared/spiffe/pem.js';
import { parseSpiffeId } from '../../../shared/spiffe/spiffe-id.js';
import { parseTrustDomain } from '../../../shared/spiffe/trust-domain.js';
import { X509Bundle, X509BundleSet } from '../../../shared/spiffe/x509-bundle.js';
import { authorizePeer, claimedSpiffeId, presentedChain } from '../../../shared/transport/peer-chain.js';
import { DevCa } from '../../local/dev-ca.js';

const CONTACT = 'spiffe://jia.app/contact-service';
let ca: DevCa;
let rogue: DevCa; // claims jia.app, trusted only as partner.example's bundle
let bundles: X509BundleSet;

beforeAll(async () => {
  [ca, rogue] = await Promise.all([DevCa.create('jia.app'), DevCa.create('jia.app')]);
  bundles = new X509BundleSet([
    X509Bundle.parse(parseTrustDomain('jia.app'), ca.bundlePem),
    X509Bundle.parse(parseTrustDomain('partner.example'), rogue.bundlePem),
  ]);
});

/** Node's detailed peer certificate shape: issuer links, the trust-store root linked to itself. */
function detailed(chain: X509Certificate[], root?: X509Certificate): DetailedPeerCertificate {
  const nodes = chain.map((cert) => ({ raw: cert.raw }) as DetailedPeerCertificate);
  if (root) {
    const rootNode = { raw: root.raw } as DetailedPeerCertificate;
    rootNode.issuerCertificate = rootNode;
    nodes.push(rootNode);
  }
  for (let i = 0; i < nodes.length - 1; i++) nodes[i]!.issuerCertificate = nodes[i + 1]!;
  return nodes[0]!;
}

async function chainOf(issuer: DevCa, id: string, opts: Parameters<DevCa['mintSvid']>[1] = {}) {
  return parseCertificatesPem((await issuer.mintSvid(id, opts)).certChainPem, 'test chain');
}

describe('presentedChain', () => {
  it('rebuilds leaf and intermediate and drops the root node appended from the trust store', async () => {
    const chain = await chainOf(ca, CONTACT, { viaIntermediate: true });
    const root = new X509Certificate(ca.bundlePem);

    const rebuilt = presentedChain(detailed(chain, root));

    expect(rebuilt.map((c) => c.fingerprint256)).toEqual(chain.map((c) => c.fingerprint256));
  });

  it('yields just the leaf from the abbreviated form', async () => {
    const [leaf] = await chainOf(ca, CONTACT, { viaIntermediate: true });

    const rebuilt = presentedChain({ raw: leaf!.raw } as DetailedPeerCertificate);

    expect(rebuilt.map((c) => c.fingerprint256)).toEqual([leaf!.fingerprint256]);
  });

  it('keeps a self-signed leaf, the only certificate there is', () => {
    const root = new X509Certificate(ca.bundlePem);

    expect(presentedChain(detailed([], root))).toHaveLength(1);
  });

  it('stops at a loop of issuer links', async () => {
    const chain = await chainOf(ca, CONTACT, { viaIntermediate: true });
    const top = detailed(chain);
    top.issuerCertificate.issuerCertificate = top;

    expect(presentedChain(top)).toHaveLength(2);
  });

  it('yields nothing for an empty certificate object', () => {
    expect(presentedChain({} as DetailedPeerCertificate)).toEqual([]);
  });
});

describe('authorizePeer', () => {
  it('returns the verified SPIFFE ID and leaf serial of an allowed peer', async () => {
    const chain = await chainOf(ca, CONTACT, { viaIntermediate: true });

    const peer = authorizePeer(chain, bundles, matchId(parseSpiffeId(CONTACT)));

    expect(peer.id.toString()).toBe(CONTACT);
    expect(peer.serialNumber).toBe(chain[0]!.serialNumber.toLowerCase());
  });

  it('rejects a peer the matcher does not allow', async () => {
    const chain = await chainOf(ca, 'spiffe://jia.app/other');

    expect(() => authorizePeer(chain, bundles, matchId(parseSpiffeId(CONTACT)))).toThrow(
      expect.objectContaining({ constructor: SpiffeIdError, code: 'SPIFFE_ID_NOT_ALLOWED' }),
    );
  });

  it('rejects a jia.app SVID signed by a root trusted only for another trust domain', async () => {
    const chain = await chainOf(rogue, CONTACT);

    expect(() => authorizePeer(chain, bundles, matchId(parseSpiffeId(CONTACT)))).toThrow(
      expect.objectContaining({ constructor: SvidError, code: 'SVID_UNTRUSTED' }),
    );
  });

  it('verifies at the given time', async () => {
    const chain = await chainOf(ca, CONTACT);

    expect(() => authorizePeer(chain, bundles, matchId(parseSpiffeId(CONTACT)), new Date(Date.now() + 2 * 3_600_000))).toThrow(
      expect.objectContaining({ code: 'SVID_EXPIRED' }),
    );
  });
});

describe('claimedSpiffeId', () => {
  it('names the one URI SAN of a leaf', async () => {
    expect(claimedSpiffeId(await chainOf(rogue, CONTACT))).toBe(CONTACT);
  });

  it('names nothing for a leaf with two URI SANs or none', async () => {
    expect(claimedSpiffeId(await chainOf(ca, CONTACT, { uris: [CONTACT, 'spiffe://jia.app/x'] }))).toBeUndefined();
    expect(claimedSpiffeId(await chainOf(ca, CONTACT, { uris: [] }))).toBeUndefined();
    expect(claimedSpiffeId([])).toBeUndefined();
  });
});
