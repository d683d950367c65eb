import type { X509Certificate } from 'node:crypto';
import type { PeerCertificate } from 'node:tls';
import { status, type ServerInterceptor } from '@grpc/grpc-js';
import { MeshError, SpiffeIdError, SvidError } from '../errors.js';
import { parseSpiffeId, type SpiffeId } from '../spiffe/spiffe-id.js';
import type { X509BundleSet } from '../spiffe/x509-bundle.js';
import { verifyX509Svid } from '../spiffe/x509-svid-verify.js';
import { spiffeAuthorizerInterceptor } from './spiffe-authorizer-interceptor.js';

/** The client a call came from, as the authorizer verified it. */
export interface PeerIdentity {
  readonly spiffeId: SpiffeId;
  /** The client leaf's serial number, lowercase hex. */
  readonly serialNumber: string;
}

/** What the authorizer decided about one call; a denial carries the gRPC status to answer with. */
export type AuthorizationDecision =
  | { readonly allowed: true; readonly peer: PeerIdentity }
  | {
      readonly allowed: false;
      readonly code: typeof status.UNAUTHENTICATED | typeof status.PERMISSION_DENIED;
      readonly details: string;
      readonly error: MeshError;
    };

/** The X.509-SVID verification of one client chain, cacheable per connection. */
export type ClientVerification =
  | {
      readonly verified: true;
      /** The bundles it was verified against; a different set needs a new verification. */
      readonly bundles: X509BundleSet;
      readonly peer: PeerIdentity;
      /** The leaf's SHA-256 fingerprint as node prints it. */
      readonly fingerprint: string;
      /** Epoch ms when the first certificate of the verified path expires. */
      readonly validUntil: number;
    }
  | { readonly verified: false; readonly bundles: X509BundleSet; readonly error: MeshError };

/**
 * The trust bundles to verify clients against: fixed, or read per verification (rotating bundles;
 * return the same object until they change, since per-connection verifications are kept for the
 * same object only). Give the server credentials the same authorities.
 */
export type BundlesProvider = X509BundleSet | (() => X509BundleSet);

export interface SpiffeIdAuthorizerOptions {
  /** Epoch milliseconds; the verification time. */
  now: () => number;
  /** Verified client leaves remembered for {@link SpiffeIdAuthorizer.peerIdentity}. */
  maxRememberedPeers: number;
}

export const SPIFFE_ID_AUTHORIZER_DEFAULTS: SpiffeIdAuthorizerOptions = { now: Date.now, maxRememberedPeers: 1024 };

/**
 * Authorises gRPC clients by the SPIFFE ID of their X.509-SVID: full X509-SVID verification of the
 * presented chain against the server's bundles (the chain must reach the bundle of the client's
 * own trust domain), then an allow-list. An empty allow-list admits nobody.
 *
 * Denials answer like the mesh's Go servers: `PERMISSION_DENIED` with details exactly
 * `spiffe ID not allowed: <id>`; a chain that is not a valid X.509-SVID answers `UNAUTHENTICATED`.
 *
 * ```ts
 * const authz = new SpiffeIdAuthorizer(material.bundles);
 * authz.addAllowedSpiffeId('spiffe://jia.app/payment-functions');
 * const server = new Server({ interceptors: [authz.interceptor()] });
 * ```
 */
export class SpiffeIdAuthorizer {
  readonly #bundles: BundlesProvider;
  readonly #options: SpiffeIdAuthorizerOptions;
  readonly #allowed = new Set<string>();
  /** Verified leaves by SHA-256 fingerprint, oldest first, for handlers asking who called. */
  readonly #peers = new Map<string, PeerIdentity>();

  constructor(bundles: BundlesProvider, options: Partial<SpiffeIdAuthorizerOptions> = {}) {
    this.#bundles = bundles;
    this.#options = { ...SPIFFE_ID_AUTHORIZER_DEFAULTS, ...options };
  }

  /**
   * Admits `id` from now on.
   *
   * @throws {SpiffeIdError} when `id` is not a valid SPIFFE ID.
   */
  addAllowedSpiffeId(id: string | SpiffeId): this {
    this.#allowed.add((typeof id === 'string' ? parseSpiffeId(id) : id).toString());
    return this;
  }

  /** Stops admitting `id`; connections already open are re-checked on their next call. */
  removeAllowedSpiffeId(id: string | SpiffeId): this {
    this.#allowed.delete(id.toString());
    return this;
  }

  get allowedSpiffeIds(): readonly string[] {
    return [...this.#allowed];
  }

  /** The bundles clients are verified against, as of now. */
  bundles(): X509BundleSet {
    return typeof this.#bundles === 'function' ? this.#bundles() : this.#bundles;
  }

  /**
   * Verifies a client's presented chain (leaf first) as an X.509-SVID against {@link bundles} at
   * the current time. The result holds for the same bundles until `validUntil`, so callers may
   * cache it per connection. Never throws.
   */
  verify(chain: readonly X509Certificate[]): ClientVerification {
    const bundles = this.bundles();
    try {
      const leaf = chain[0];
      if (!leaf) throw new SvidError('SVID_EMPTY_CHAIN', 'the client presented no certificate');
      const verified = verifyX509Svid(chain, bundles, { at: new Date(this.#options.now()) });
      return {
        verified: true,
        bundles,
        peer: { spiffeId: verified.id, serialNumber: leaf.serialNumber.toLowerCase() },
        fingerprint: leaf.fingerprint256,
        validUntil: Math.min(...verified.verifiedChain.map((cert) => cert.validToDate.getTime())),
      };
    } catch (error) {
      const cause = error instanceof MeshError ? error : new SvidError('SVID_UNTRUSTED', String(error), { cause: error });
      return { verified: false, bundles, error: cause };
    }
  }

  /** True when `verification` succeeded, against the current bundles, and has not expired since. */
  stillValid(verification: ClientVerification): boolean {
    return verification.verified && verification.bundles === this.bundles() && this.#options.now() < verification.validUntil;
  }

  /** Applies the allow-list to a verification; a denial carries the status to answer with. Never throws. */
  admit(verification: ClientVerification): AuthorizationDecision {
    if (!verification.verified) {
      return deny(status.UNAUTHENTICATED, `client x509-svid rejected: ${verification.error.message}`, verification.error);
    }
    const id = verification.peer.spiffeId.toString();
    if (!this.#allowed.has(id)) {
      // The Go servers' wording exactly, and no hint of what would have been allowed.
      const message = `spiffe ID not allowed: ${id}`;
      return deny(status.PERMISSION_DENIED, message, new SpiffeIdError('SPIFFE_ID_NOT_ALLOWED', message));
    }
    this.#remember(verification.fingerprint, verification.peer);
    return { allowed: true, peer: verification.peer };
  }

  /** {@link verify} then {@link admit}: the whole decision about a client that presented `chain`. */
  authorize(chain: readonly X509Certificate[]): AuthorizationDecision {
    return this.admit(this.verify(chain));
  }

  /** A grpc-js server interceptor enforcing {@link authorize} before any handler runs. */
  interceptor(): ServerInterceptor {
    return spiffeAuthorizerInterceptor(this);
  }

  /**
   * The verified identity of the client of a call this authorizer admitted: for handlers, e.g. to
   * log or record which client certificate they served.
   *
   * @throws {SvidError} `SVID_UNTRUSTED` when the call's client was not verified by this authorizer.
   */
  peerIdentity(call: { getAuthContext(): { sslPeerCertificate?: PeerCertificate | undefined } }): PeerIdentity {
    const fingerprint = call.getAuthContext().sslPeerCertificate?.fingerprint256;
    const identity = fingerprint === undefined ? undefined : this.#peers.get(fingerprint);
    if (!identity) throw new SvidError('SVID_UNTRUSTED', 'the client of this call was not verified by this spiffe id authorizer');
    return identity;
  }

  #remember(fingerprint: string, identity: PeerIdentity): void {
    this.#peers.delete(fingerprint);
    this.#peers.set(fingerprint, identity);
    if (this.#peers.size > this.#options.maxRememberedPeers) {
      this.#peers.delete(this.#peers.keys().next().value!);
    }
  }
}

function deny(
  code: typeof status.UNAUTHENTICATED | typeof status.PERMISSION_DENIED,
  details: string,
  error: MeshError,
): AuthorizationDecision {
  return { allowed: false, code, details, error };
}
