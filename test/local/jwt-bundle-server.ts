/**
 * A loopback HTTPS endpoint serving a JWT bundle, as a SPIRE server's federation bundle endpoint
 * (`https_spiffe`: it presents an X.509-SVID) or an OIDC discovery provider's `/keys` (`https_web`:
 * a Web PKI certificate) would. The document and the status can change while it runs; requests
 * are counted, so tests can see refreshes.
 */
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';

export interface JwtBundleServerOptions {
  /** PEM certificate chain (leaf first) and PKCS#8 key the server presents. */
  certChainPem: string;
  privateKeyPem: string;
  /** What `GET <path>` answers, as JSON. */
  document: () => unknown;
  /** The path served (404 elsewhere); SPIRE's bundle endpoint serves `/`, the OIDC provider `/keys`. */
  path?: string;
}

export interface JwtBundleServer {
  /** `https://127.0.0.1:<port><path>` */
  readonly url: string;
  /** Requests answered so far. */
  readonly requests: number;
  /** Answer with this status (and no bundle) from now on; `undefined` serves the bundle again. */
  failWith(status: number | undefined): void;
  /** Delay every answer by `ms` (a slow endpoint). */
  delay(ms: number): void;
  close(): Promise<void>;
}

export async function startJwtBundleServer(options: JwtBundleServerOptions): Promise<JwtBundleServer> {
  const path = options.path ?? '/';
  let requests = 0;
  let failure: number | undefined;
  let delayMs = 0;
  const server: Server = createServer({ cert: options.certChainPem, key: options.privateKeyPem }, (request, response) => {
    requests++;
    const answer = () => {
      if (request.url !== path) {
        response.writeHead(404).end();
      } else if (failure !== undefined) {
        response.writeHead(failure, { 'content-type': 'text/plain' }).end('unavailable');
      } else {
        response.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-cache, no-store, must-revalidate' });
        response.end(JSON.stringify(options.document()));
      }
    };
    if (delayMs > 0) setTimeout(answer, delayMs);
    else answer();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}${path}`,
    get requests() {
      return requests;
    },
    failWith: (status) => (failure = status),
    delay: (ms) => (delayMs = ms),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
