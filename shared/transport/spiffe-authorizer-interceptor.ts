import type { Http2Session } from 'node:http2';
import { TLSSocket, type PeerCertificate } from 'node:tls';
import {
  Metadata,
  ServerInterceptingCall,
  type ServerInterceptingCallInterface,
  type ServerInterceptor,
} from '@grpc/grpc-js';
import { SvidError } from '../errors.js';
import { capturedClientChain } from './client-chain-capture.js';
import { presentedChain } from './peer-chain.js';
import type { ClientVerification, SpiffeIdAuthorizer } from './spiffe-authorizer.js';

/**
 * The HTTP/2 session a server call arrived on, and through it the client's TLS socket.
 *
 * grpc-js hands interceptors only the abbreviated peer certificate (`getAuthContext()`: the leaf,
 * without the intermediates the client sent), which cannot be verified as an X.509-SVID when the
 * client's SVID was issued by an intermediate. The TLS socket has more (see `clientCertificate`);
 * grpc-js keeps it on its base call (`stream.session.socket`, the path its own `getAuthContext`
 * takes), which interceptors wrap through `nextCall`. Returns `undefined` if that shape changes;
 * the caller then verifies the leaf alone, which fails closed for intermediate-issued SVIDs.
 */
export function http2SessionOf(call: ServerInterceptingCallInterface): Http2Session | undefined {
  let current: unknown = call;
  for (let depth = 0; depth < 16 && typeof current === 'object' && current !== null; depth++) {
    const session = (current as { stream?: { session?: Http2Session } }).stream?.session;
    if (session) return session;
    current = (current as { nextCall?: unknown }).nextCall;
  }
  return undefined;
}

/**
 * The client's certificate with as much of its presented chain as node still has: the chain
 * recorded at the handshake (`client-chain-capture.ts`), else node's detailed peer certificate
 * (whole on node versions without nodejs/node#65579), else grpc-js's abbreviated one.
 */
function clientCertificate(call: ServerInterceptingCallInterface, session: Http2Session | undefined): PeerCertificate | undefined {
  const socket = session?.socket;
  if (socket instanceof TLSSocket) {
    // Unauthorized sockets never get here with the credentials' `requestCert` + `rejectUnauthorized`;
    // check anyway, as grpc-js's own getAuthContext does.
    if (!socket.authorized) return undefined;
    const captured = capturedClientChain(socket);
    if (captured) return captured;
    const cert = socket.getPeerCertificate(true);
    return cert.raw ? cert : undefined;
  }
  return call.getAuthContext().sslPeerCertificate;
}

/** Says why a leaf alone did not verify when node withheld the intermediates. */
function explainMissingIntermediates(verification: ClientVerification, chainLength: number): ClientVerification {
  if (verification.verified || chainLength !== 1 || verification.error.code !== 'SVID_UNTRUSTED') return verification;
  const error = new SvidError(
    'SVID_UNTRUSTED',
    `${verification.error.message}; only the leaf was available (a client without SNI on a node version that drops client intermediates, nodejs/node#65579)`,
    { cause: verification.error },
  );
  return { ...verification, error };
}

/**
 * The grpc-js server interceptor behind {@link SpiffeIdAuthorizer.interceptor}: verifies the
 * client once per connection (until the verified path's first expiry, or a change of bundles),
 * applies the allow-list on every call, and answers a denial before the handler runs.
 */
export function spiffeAuthorizerInterceptor(authorizer: SpiffeIdAuthorizer): ServerInterceptor {
  // One verification per connection (a client's chain cannot change within a TLS session); only
  // successes are kept, so a chain that was not yet valid is looked at again.
  const verifiedBySession = new WeakMap<Http2Session, ClientVerification>();

  function verificationFor(call: ServerInterceptingCallInterface): ClientVerification {
    const session = http2SessionOf(call);
    const cached = session ? verifiedBySession.get(session) : undefined;
    if (cached && authorizer.stillValid(cached)) return cached;
    const cert = clientCertificate(call, session);
    const chain = cert ? presentedChain(cert) : [];
    const verification = explainMissingIntermediates(authorizer.verify(chain), chain.length);
    if (session && verification.verified) verifiedBySession.set(session, verification);
    return verification;
  }

  return function spiffeIdAuthorizerInterceptor(_method, call) {
    return new ServerInterceptingCall(call, {
      start(next) {
        next({
          onReceiveMetadata(metadata, proceed) {
            const decision = authorizer.admit(verificationFor(call));
            if (decision.allowed) {
              proceed(metadata);
              return;
            }
            call.sendStatus({ code: decision.code, details: decision.details, metadata: new Metadata() });
          },
        });
      },
    });
  };
}
