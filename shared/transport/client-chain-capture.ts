import type { DetailedPeerCertificate, SecureContext, TLSSocket } from 'node:tls';

/*
 * Node 24.21 loses a client's intermediates on the server side: when the handshake completes,
 * node's own `onServerSocketSecure` calls `getPeerX509Certificate()`, which deletes them from
 * OpenSSL's peer chain, so every later `getPeerCertificate(true)` yields the leaf alone
 * (nodejs/node#65579, fixed by nodejs/node#65602). Without them an X.509-SVID issued by an
 * intermediate CA (SPIRE with an upstream authority) cannot be verified as the X509-SVID spec asks.
 *
 * Node calls a server's `SNICallback` as a method of the TLS socket during the ClientHello,
 * before the handshake completes; from there a `secure` listener put ahead of node's reads the
 * presented chain while it is still whole. Only connections that send SNI get there; mesh
 * channels always do (the service name, `grpc.ssl_target_name_override`). Other clients are
 * verified on whatever node still exposes, which fails closed for intermediate-issued SVIDs.
 */

const PRESENTED_CHAIN = Symbol('spiffe.presentedClientChain');

type SocketWithChain = TLSSocket & { [PRESENTED_CHAIN]?: DetailedPeerCertificate };

/**
 * A server `SNICallback` that keeps the default secure context and records the client's presented
 * chain on the socket at the end of the handshake, for {@link capturedClientChain}.
 */
export function captureClientChainOnSni(
  this: TLSSocket | undefined,
  _servername: string,
  callback: (error: Error | null, context?: SecureContext) => void,
): void {
  const socket = this as SocketWithChain | undefined;
  socket?.prependOnceListener?.('secure', function recordPresentedClientChain() {
    const cert = socket.getPeerCertificate(true);
    if (cert?.raw) socket[PRESENTED_CHAIN] = cert;
  });
  callback(null);
}

/** The client chain recorded by {@link captureClientChainOnSni}, if this connection went through it. */
export function capturedClientChain(socket: TLSSocket): DetailedPeerCertificate | undefined {
  return (socket as SocketWithChain)[PRESENTED_CHAIN];
}
