/**
 * Where a cold start's first invocation spends its time, seen from outside the code under test,
 * the same way for the function and the bare client: Node's diagnostics channels for the HTTP
 * requests (Secrets Manager, Cloud Map, the Parameters and Secrets extension) and the HTTP/2
 * streams gRPC runs on, and wrappers around `tls.connect` and the DNS resolver's queries. Installed
 * by the cold-start runner before it imports the bundle; nothing in the bundle knows of it.
 */
import { subscribe } from 'node:diagnostics_channel';
import type { ClientRequest } from 'node:http';
import { createRequire } from 'node:module';
import type { TLSSocket } from 'node:tls';

/** Milliseconds of each phase (a phase the side never went through is 0). */
export interface ColdStartPhases {
  /** Process start until the bundle was imported (Lambda's init). */
  import: number;
  /** The SVID's request, start to answer (Secrets Manager or the extension). */
  svid: number;
  /** The discovery requests (Cloud Map or DNS), first start to last answer; overlaps `svid`. */
  discovery: number;
  /** The first TLS connection, `tls.connect` to the handshake's end. */
  handshake: number;
  /** The handshake's end until the call's HTTP/2 stream closed (the answer received). */
  first_call: number;
  /** The answer received until the handler returned: middleware `after`s and the metrics flush. */
  flush: number;
}

/**
 * The time between the phases, where the invocation works without waiting on the network: from
 * the handler's start to its first request (middleware, the runtime's and the SDK clients' set-up,
 * signing), and from the last answer to `tls.connect` (parsing and checking the SVID, the channel).
 */
export interface ColdStartGaps {
  setup: number;
  checks: number;
}

export const COLD_START_PHASES = ['import', 'svid', 'discovery', 'handshake', 'first_call', 'flush'] as const satisfies readonly (keyof ColdStartPhases)[];

interface Span {
  start: number;
  end: number;
}

const span = (): Span => ({ start: Number.NaN, end: Number.NaN });
const length = (s: Span) => (Number.isNaN(s.start) || Number.isNaN(s.end) ? 0 : s.end - s.start);

/** Starts watching; `phases(importedAt, returnedAt)` and `gaps(importedAt)` read what was seen. */
export function installColdStartProbe(): { phases(importedAt: number, returnedAt: number): ColdStartPhases; gaps(importedAt: number): ColdStartGaps } {
  const svid = span();
  const discovery = span();
  const handshake = span();
  let streamClosedAt = Number.NaN;
  const kinds = new WeakMap<object, 'svid' | 'discovery'>();

  const opened = (s: Span) => {
    if (Number.isNaN(s.start)) s.start = performance.now();
  };
  subscribe('http.client.request.start', (message) => {
    const { request } = message as { request: ClientRequest };
    const target = String(request.getHeader('x-amz-target') ?? '');
    const kind = target.startsWith('secretsmanager.') || request.path.startsWith('/secretsmanager/get') ? 'svid' : target.includes('DiscoverInstances') ? 'discovery' : undefined;
    if (kind === undefined) return;
    kinds.set(request, kind);
    opened(kind === 'svid' ? svid : discovery);
  });
  subscribe('http.client.response.finish', (message) => {
    const kind = kinds.get((message as { request: object }).request);
    if (kind === 'svid') svid.end = performance.now();
    if (kind === 'discovery') discovery.end = performance.now();
  });
  subscribe('http2.client.stream.close', () => {
    streamClosedAt = performance.now();
  });

  // CommonJS objects, as the bundles' `require` sees them: grpc-js calls `tls.connect` through
  // the module object, and the DNS source's resolvers share their prototype.
  const require = createRequire(import.meta.url);
  const tls = require('node:tls') as typeof import('node:tls');
  const connect = tls.connect;
  tls.connect = function probedConnect(this: unknown, ...args: unknown[]) {
    const socket = (connect as (...a: unknown[]) => TLSSocket).apply(this, args);
    if (Number.isNaN(handshake.start)) {
      handshake.start = performance.now();
      socket.once('secureConnect', () => (handshake.end = performance.now()));
    }
    return socket;
  } as typeof tls.connect;
  const resolver = (require('node:dns/promises') as typeof import('node:dns/promises')).Resolver.prototype as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
  for (const method of ['resolveSrv', 'resolve4', 'resolve6']) {
    const query = resolver[method]!;
    resolver[method] = function probedQuery(this: unknown, ...args: unknown[]) {
      opened(discovery);
      const settled = () => {
        discovery.end = performance.now();
      };
      const answer = query.apply(this, args);
      answer.then(settled, settled);
      return answer;
    };
  }

  return {
    gaps(importedAt) {
      const requested = [svid.start, discovery.start].filter((t) => !Number.isNaN(t));
      const answered = [svid.end, discovery.end].filter((t) => !Number.isNaN(t));
      const connect = handshake.start;
      return {
        setup: (requested.length > 0 ? Math.min(...requested) : Number.isNaN(connect) ? importedAt : connect) - importedAt,
        checks: answered.length > 0 && !Number.isNaN(connect) ? connect - Math.max(...answered) : 0,
      };
    },
    phases(importedAt, returnedAt) {
      const secure = handshake.end;
      return {
        import: importedAt,
        svid: length(svid),
        discovery: length(discovery),
        handshake: length(handshake),
        first_call: Number.isNaN(secure) || Number.isNaN(streamClosedAt) ? 0 : streamClosedAt - secure,
        flush: Number.isNaN(streamClosedAt) ? 0 : returnedAt - streamClosedAt,
      };
    },
  };
}
