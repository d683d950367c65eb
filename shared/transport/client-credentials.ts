import { ChannelCredentials } from '@grpc/grpc-js';
import type { PeerCertificate } from 'node:tls';
import { MeshError } from '../errors.js';
import type { SvidMaterial } from '../identity/svid-material.js';
import type { Matcher } from '../spiffe/match.js';
import { ObservedChannelCredentials } from './observed-channel-credentials.js';
import { authorizePeer, claimedSpiffeId, presentedChain } from './peer-chain.js';

/** Why the last TLS handshake with a server was refused on our side. */
export interface ServerRejection {
  /** Epoch milliseconds of the refusal. */
  readonly at: number;
  /**
   * The broken rule: an `SvidError` code (`SVID_UNTRUSTED`, `SVID_MULTIPLE_URI_SANS`, …),
   * `SPIFFE_ID_NOT_ALLOWED` from the matcher, or node's X.509 verification code (`CERT_HAS_EXPIRED`,
   * `UNABLE_TO_VERIFY_LEAF_SIGNATURE`, …) when OpenSSL refused the chain before the SPIFFE check ran.
   */
  readonly code: string;
  /** The SPIFFE ID the server's leaf claims, when it names exactly one and we got to see it. */
  readonly peerId: string | undefined;
  /** The rule in words, naming the offending value. */
  readonly reason: string;
  /** The message of the error the connection failed with, which grpc-js quotes in later calls' details. */
  readonly connectionError: string;
}

/** Channel credentials that authenticate the server by SPIFFE ID, with a record of refusals. */
export interface MeshChannelCredentials {
  readonly credentials: ChannelCredentials;
  /** The SVID material these credentials present and verify against. */
  readonly material: SvidMaterial;
  /**
   * The refusal of the most recent TLS handshake, `undefined` once one succeeded or failed for
   * another reason. Connections that fail before TLS (refused, unreachable) do not touch it.
   */
  lastRejection(): ServerRejection | undefined;
}

export interface ClientCredentialsOptions {
  /** The mesh service dialled, named in refusals. */
  service: string;
  /** Epoch milliseconds; verification time and refusal timestamps. */
  now: () => number;
}

export const CLIENT_CREDENTIALS_DEFAULTS: Omit<ClientCredentialsOptions, 'service'> = { now: Date.now };

/**
 * OpenSSL's X.509 verification failures as node names them (`tls` docs, "X509 certificate error
 * codes"): the chain did not verify against the bundle authorities, so `checkServerIdentity` never
 * ran. Other connect errors (refused, reset, timed out) are network failures, not refusals.
 */
const TLS_VERIFY_CODES = new Set([
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_NOT_YET_VALID',
  'CERT_HAS_EXPIRED',
  'ERROR_IN_CERT_NOT_BEFORE_FIELD',
  'ERROR_IN_CERT_NOT_AFTER_FIELD',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'CERT_CHAIN_TOO_LONG',
  'CERT_REVOKED',
  'INVALID_CA',
  'PATH_LENGTH_EXCEEDED',
  'INVALID_PURPOSE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
]);

/**
 * Builds mTLS channel credentials from an SVID: presents the SVID, trusts every bundle authority
 * for the TLS handshake, and replaces the hostname check (SVIDs carry only a URI SAN) with the
 * X.509-SVID check: the server's presented chain must verify against the bundle of the server's
 * OWN trust domain with every X509-SVID rule, and `authorize` must accept its SPIFFE ID.
 *
 * A refused server fails the connection, so calls on it end `UNAVAILABLE`; {@link
 * MeshChannelCredentials.lastRejection} says why, which the clients turn into
 * `MESH_SERVER_NOT_AUTHORIZED`.
 */
export function meshChannelCredentials(
  material: SvidMaterial,
  authorize: Matcher,
  opts: Partial<ClientCredentialsOptions> & Pick<ClientCredentialsOptions, 'service'>,
): MeshChannelCredentials {
  const options = { ...CLIENT_CREDENTIALS_DEFAULTS, ...opts };
  let last: ServerRejection | undefined;

  function refuse(code: string, peerId: string | undefined, reason: string, connectionError: string): void {
    last = { at: options.now(), code, peerId, reason, connectionError };
  }

  function checkSpiffeServerIdentity(_hostname: string, cert: PeerCertificate): Error | undefined {
    let chain: ReturnType<typeof presentedChain> = [];
    try {
      chain = presentedChain(cert);
      authorizePeer(chain, material.bundles, authorize, new Date(options.now()));
      return undefined;
    } catch (error) {
      // Never throw from here: node expects an Error back, and anything unexpected must refuse too.
      const code = error instanceof MeshError ? error.code : 'SVID_UNTRUSTED';
      const peerId = claimedSpiffeId(chain);
      const reason = error instanceof Error ? error.message : String(error);
      const message = `server ${options.service} (${peerId ?? 'no single spiffe id'}) is not authorized: ${reason}`;
      refuse(code, peerId, reason, message);
      // Node destroys the socket with this error, which then reaches `failed` below.
      return new MeshError('MESH_SERVER_NOT_AUTHORIZED', message, { cause: error });
    }
  }

  const inner = ChannelCredentials.createSsl(
    Buffer.from(material.bundles.authoritiesPem()),
    Buffer.from(material.svid.privateKeyPem),
    Buffer.from(material.svid.certChainPem),
    { checkServerIdentity: checkSpiffeServerIdentity },
  );

  const credentials = new ObservedChannelCredentials(inner, {
    succeeded() {
      last = undefined;
    },
    failed(error) {
      if (error instanceof MeshError && error.code === 'MESH_SERVER_NOT_AUTHORIZED') return; // recorded above
      const code = (error as { code?: unknown } | null)?.code;
      if (typeof code === 'string' && TLS_VERIFY_CODES.has(code)) {
        const message = (error as Error).message;
        refuse(code, undefined, `tls verification of the server's certificate chain failed: ${message}`, message);
      } else {
        last = undefined;
      }
    },
  });

  return { credentials, material, lastRejection: () => last };
}
