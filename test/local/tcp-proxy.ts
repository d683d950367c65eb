/**
 * A loopback TCP proxy that can silently drop its connections: `blackhole()` stops forwarding on
 * every open connection without closing it, as a NAT, load balancer or vanished peer does to a
 * connection while a Lambda is frozen. New connections are forwarded normally.
 *
 * The blackholed sockets stay open and unread, so the client's kernel still acknowledges what it
 * sends and it sees no FIN or RST: only an application-level timeout (a deadline or an HTTP/2
 * keepalive PING) can notice.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface TcpProxyOptions {
  /** Where connections are forwarded, e.g. `{ host: '127.0.0.1', port: 50051 }`. */
  target: { host: string; port: number };
  /** 0 picks a free port. */
  port: number;
  host: string;
}

export const TCP_PROXY_DEFAULTS = { port: 0, host: '127.0.0.1' } satisfies Omit<TcpProxyOptions, 'target'>;

export interface TcpProxy {
  readonly port: number;
  /** `host:port` to dial instead of the target. */
  readonly address: string;
  /** Connections accepted so far. */
  readonly accepted: number;
  /** Connections currently forwarding (not blackholed, not closed). */
  readonly forwarding: number;
  /** Stops forwarding on every open connection, leaving it open: a silent drop. Returns how many. */
  blackhole(): number;
  /** Closes the listener and destroys every connection, blackholed ones included. */
  close(): Promise<void>;
}

interface Pair {
  client: Socket;
  upstream: Socket;
  blackholed: boolean;
}

/** Starts a proxy to `target` on loopback. */
export async function startTcpProxy(opts: Partial<TcpProxyOptions> & Pick<TcpProxyOptions, 'target'>): Promise<TcpProxy> {
  const options: TcpProxyOptions = { ...TCP_PROXY_DEFAULTS, ...opts };
  const pairs = new Set<Pair>();
  let accepted = 0;

  const server: Server = createServer((client) => {
    accepted++;
    const upstream = connect(options.target.port, options.target.host);
    // No Nagle: a relay that batches small HTTP/2 frames adds delayed-ACK stalls (~40 ms) per call.
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    const pair: Pair = { client, upstream, blackholed: false };
    pairs.add(pair);
    const end = () => {
      if (pair.blackholed) return; // a silent drop never tells either side
      client.destroy();
      upstream.destroy();
      pairs.delete(pair);
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.pipe(upstream);
    upstream.pipe(client);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as { port: number }).port;

  return {
    port,
    address: `${options.host}:${port}`,
    get accepted() {
      return accepted;
    },
    get forwarding() {
      return [...pairs].filter((p) => !p.blackholed).length;
    },
    blackhole() {
      let count = 0;
      for (const pair of pairs) {
        if (pair.blackholed) continue;
        pair.blackholed = true;
        count++;
        pair.client.unpipe(pair.upstream);
        pair.upstream.unpipe(pair.client);
        // Paused and unread: bytes pile up in kernel buffers, nothing is answered or closed.
        pair.client.pause();
        pair.upstream.pause();
      }
      return count;
    },
    async close() {
      const closing = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const pair of pairs) {
        pair.client.destroy();
        pair.upstream.destroy();
      }
      pairs.clear();
      await closing;
    },
  };
}
