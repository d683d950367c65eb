import { ServerCredentials } from '@grpc/grpc-js';
import type { SvidMaterial } from '../identity/svid-material.js';
import { captureClientChainOnSni } from './client-chain-capture.js';

/** The PEM parts of server credentials. */
export interface ServerCredentialsPem {
  /** Every authority client certificates may chain to (own and federated bundles). */
  rootsPem: string;
  /** The server's chain, leaf first. */
  certChainPem: string;
  privateKeyPem: string;
}

/**
 * grpc-js's `createSsl` with one addition: an `SNICallback` that records each client's presented
 * chain, which node would otherwise lose (see `client-chain-capture.ts`).
 */
class SpiffeServerCredentials extends ServerCredentials {
  constructor(parts: ServerCredentialsPem) {
    super(
      // requestCert with rejectUnauthorized: the handshake fails for a client without a
      // certificate chaining to one of the roots.
      { requestCert: true, rejectUnauthorized: true, SNICallback: captureClientChainOnSni },
      { ca: parts.rootsPem, cert: parts.certChainPem, key: parts.privateKeyPem },
    );
  }

  override _equals(other: ServerCredentials): boolean {
    return other === this;
  }
}

/**
 * Builds mTLS server credentials from an SVID: presents the SVID's chain and requires a client
 * certificate that chains to one of the bundle authorities (own and federated trust domains).
 *
 * OpenSSL's check only proves the chain reaches *some* trusted root; which trust domain's root,
 * the X509-SVID rules and the client's SPIFFE ID are the job of `SpiffeIdAuthorizer`, so a server
 * built with these credentials must also install its interceptor.
 */
export function meshServerCredentials(material: SvidMaterial): ServerCredentials {
  return serverCredentialsFromPem({
    rootsPem: material.bundles.authoritiesPem(),
    certChainPem: material.svid.certChainPem,
    privateKeyPem: material.svid.privateKeyPem,
  });
}

/**
 * {@link meshServerCredentials} from PEM parts that were not validated as an SVID: for test
 * servers that present a deliberately invalid one.
 */
export function serverCredentialsFromPem(parts: ServerCredentialsPem): ServerCredentials {
  return new SpiffeServerCredentials(parts);
}
