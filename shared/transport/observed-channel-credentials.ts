import { ChannelCredentials } from '@grpc/grpc-js';

/** Hears how each connection attempt's TLS handshake ended. */
export interface HandshakeObserver {
  succeeded(): void;
  /** `error` is what the handshake failed with: node's TLS error, or `checkServerIdentity`'s. */
  failed(error: unknown): void;
}

type ConnectorArgs = Parameters<ChannelCredentials['_createSecureConnector']>;
type SecureConnector = ReturnType<ChannelCredentials['_createSecureConnector']>;

/**
 * Wraps grpc-js's TLS credentials only to observe each connection attempt's outcome: grpc-js
 * reports a refused handshake to callers as a bare `UNAVAILABLE` whose details carry just a
 * message, so the refusal (and OpenSSL's verification code) is recorded here instead.
 *
 * Security does not depend on this wrapper: the inner credentials keep `rejectUnauthorized` and
 * the SPIFFE `checkServerIdentity`, and this class adds no check of its own. It does depend on
 * grpc-js's `_createSecureConnector` (an underscore API, stable through 1.14); a grpc-js that
 * connects differently fails every call through it, which the transport tests would show at once.
 */
export class ObservedChannelCredentials extends ChannelCredentials {
  readonly #inner: ChannelCredentials;
  readonly #observer: HandshakeObserver;

  constructor(inner: ChannelCredentials, observer: HandshakeObserver) {
    super();
    this.#inner = inner;
    this.#observer = observer;
  }

  override _isSecure(): boolean {
    return true;
  }

  override _equals(other: ChannelCredentials): boolean {
    return other === this;
  }

  override _createSecureConnector(...args: ConnectorArgs): SecureConnector {
    const connector = this.#inner._createSecureConnector(...args);
    const observer = this.#observer;
    return {
      connect(socket) {
        return connector.connect(socket).then(
          (result) => {
            observer.succeeded();
            return result;
          },
          (error: unknown) => {
            observer.failed(error);
            throw error;
          },
        );
      },
      waitForReady: () => connector.waitForReady(),
      getCallCredentials: () => connector.getCallCredentials(),
      destroy: () => connector.destroy(),
    };
  }
}
