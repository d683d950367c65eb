/**
 * A minimal xDS control plane for tests: Envoy's
 * `AggregatedDiscoveryService/StreamAggregatedResources` in its state-of-the-world variant, over
 * plaintext gRPC on loopback (as a mesh's control plane is reached through the node's own
 * sidecar-less channel, `"channel_creds": [{"type": "insecure"}]`).
 *
 * Per mesh service it serves the chain gRPC's xDS client walks (gRFC A27), built by
 * `xds-control-plane-resources.ts`: Listener → RouteConfiguration → Cluster (EDS) →
 * ClusterLoadAssignment, `Any`-packed by protobufjs from their JSON form (`"@type"`) with the Envoy
 * protos grpc-js-xds ships.
 *
 * ACKs and NACKs are recorded and never answered; a request naming other resources is answered
 * with them; {@link XdsControlPlane.setEndpoints} pushes a new EDS version to every stream watching
 * it. A client half-closing its stream gets the stream finished, as go-control-plane and istiod do,
 * so a client that unsubscribes everything holds no open call afterwards.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Server, ServerCredentials, loadPackageDefinition, type ServerDuplexStream, type ServiceDefinition } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { XDS_TYPE_URLS, xdsResource, type UpstreamTls, type XdsResourceKind } from './xds-control-plane-resources.js';

export { XDS_TYPE_URLS } from './xds-control-plane-resources.js';

export interface XdsControlPlaneOptions {
  /** Endpoints (`host:port`, IP literals) by mesh service name. */
  services: Record<string, string[]>;
  host: string;
  /** 0 picks a free port (kept across {@link XdsControlPlane.stop} and `start`). */
  port: number;
  /** How the Listener carries its routes: named and served by RDS, or inline. */
  routes: 'rds' | 'inline';
  /** Accept streams and record requests, but never answer: a control plane that hangs (see {@link XdsControlPlane.setSilent}). */
  silent: boolean;
  /**
   * Services whose Cluster carries an `UpstreamTlsContext` (xDS-provided security): the CA
   * certificate provider instance (declared in the client's bootstrap) and the SAN the server must
   * present.
   */
  upstreamTls: Record<string, UpstreamTls>;
}

export const XDS_CONTROL_PLANE_DEFAULTS = {
  host: '127.0.0.1',
  port: 0,
  routes: 'rds',
  silent: false,
  upstreamTls: {},
} satisfies Omit<XdsControlPlaneOptions, 'services'>;

/** One DiscoveryRequest as received. */
export interface ReceivedRequest {
  typeUrl: string;
  resourceNames: string[];
  /** The nonce of the response this answers; `''` on a stream's first request of a type. */
  responseNonce: string;
  versionInfo: string;
  /** Set on a NACK: why the client rejected the response. */
  errorDetail: string | undefined;
}

interface DiscoveryRequest {
  type_url: string;
  resource_names: string[];
  response_nonce: string;
  version_info: string;
  error_detail: { message: string } | null;
}
type AdsStream = ServerDuplexStream<DiscoveryRequest, unknown>;

/** What one stream subscribed to and was sent, per type URL. */
interface Subscription {
  names: string[];
  nonce: string;
}

let adsService: ServiceDefinition | undefined;

/** The ADS service definition, from the Envoy protos grpc-js-xds ships (loaded once: ~1 s). */
function aggregatedDiscoveryService(): ServiceDefinition {
  if (adsService) return adsService;
  const deps = join(dirname(createRequire(import.meta.url).resolve('@grpc/grpc-js-xds/package.json')), 'deps');
  const definition = loadSync(
    [
      'envoy/service/discovery/v3/ads.proto',
      'envoy/config/listener/v3/listener.proto',
      'envoy/config/route/v3/route.proto',
      'envoy/config/cluster/v3/cluster.proto',
      'envoy/config/endpoint/v3/endpoint.proto',
      'envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto',
      'envoy/extensions/filters/http/router/v3/router.proto',
      'envoy/extensions/transport_sockets/tls/v3/tls.proto',
    ],
    {
      keepCase: true,
      longs: String,
      enums: String,
      defaults: true,
      oneofs: true,
      json: true,
      includeDirs: ['envoy-api', 'xds', 'googleapis', 'protoc-gen-validate'].map((dir) => join(deps, dir)),
    },
  );
  const grpcObject = loadPackageDefinition(definition) as unknown as {
    envoy: { service: { discovery: { v3: { AggregatedDiscoveryService: { service: ServiceDefinition } } } } };
  };
  adsService = grpcObject.envoy.service.discovery.v3.AggregatedDiscoveryService.service;
  return adsService;
}

/** A running control plane. */
export class XdsControlPlane {
  readonly options: XdsControlPlaneOptions;
  readonly #endpoints = new Map<string, string[]>();
  readonly #versions: Record<XdsResourceKind, number> = { listener: 1, routeConfiguration: 1, cluster: 1, clusterLoadAssignment: 1 };
  readonly #streams = new Map<AdsStream, Map<string, Subscription>>();
  readonly #requests: ReceivedRequest[] = [];
  #server: Server | undefined;
  #port: number;
  #nonces = 0;
  #streamsOpened = 0;
  #silent: boolean;

  private constructor(options: XdsControlPlaneOptions) {
    this.options = options;
    this.#port = options.port;
    this.#silent = options.silent;
    for (const [service, endpoints] of Object.entries(options.services)) this.#endpoints.set(service, [...endpoints]);
  }

  /** Starts a control plane on loopback. */
  static async start(opts: Partial<XdsControlPlaneOptions> & Pick<XdsControlPlaneOptions, 'services'>): Promise<XdsControlPlane> {
    const plane = new XdsControlPlane({ ...XDS_CONTROL_PLANE_DEFAULTS, ...opts });
    await plane.start();
    return plane;
  }

  get port(): number {
    return this.#port;
  }

  /** `host:port`: the bootstrap's `server_uri`. */
  get address(): string {
    return `${this.options.host}:${this.#port}`;
  }

  /** Every DiscoveryRequest received, in order. */
  get requests(): readonly ReceivedRequest[] {
    return this.#requests;
  }

  /** Requests that rejected a response. */
  get nacks(): readonly ReceivedRequest[] {
    return this.#requests.filter((r) => r.errorDetail !== undefined);
  }

  /** ADS streams open now, and ever opened. */
  get openStreams(): number {
    return this.#streams.size;
  }
  get streamsOpened(): number {
    return this.#streamsOpened;
  }

  /**
   * A gRPC xDS bootstrap (`GRPC_XDS_BOOTSTRAP_CONFIG` or the file of `GRPC_XDS_BOOTSTRAP`) for
   * clients of this control plane.
   */
  bootstrap(extra: Record<string, unknown> = {}): Record<string, unknown> {
    return {
      xds_servers: [{ server_uri: this.address, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] }],
      node: { id: 'payment-functions~local', cluster: 'payment-functions', locality: { region: 'local', zone: 'loopback' } },
      ...extra,
    };
  }

  /** Stops (`true`) or resumes answering; resuming answers every stream's current subscriptions. */
  setSilent(silent: boolean): void {
    this.#silent = silent;
    if (silent) return;
    for (const [stream, subscriptions] of this.#streams) {
      for (const [typeUrl, subscription] of subscriptions) if (subscription.names.length > 0) this.#respond(stream, typeUrl, subscription);
    }
  }

  /** Replaces the endpoints of `service` (the only service when there is one) and pushes the new EDS version. */
  setEndpoints(endpoints: string[], service = this.#onlyService()): void {
    this.#endpoints.set(service, [...endpoints]);
    this.#versions.clusterLoadAssignment++;
    const typeUrl = XDS_TYPE_URLS.clusterLoadAssignment;
    for (const [stream, subscriptions] of this.#streams) {
      const subscription = subscriptions.get(typeUrl);
      if (subscription?.names.includes(`${service}-cluster`)) this.#respond(stream, typeUrl, subscription);
    }
  }

  /** Listens (again, on the same port once one was picked). */
  async start(): Promise<void> {
    if (this.#server) return;
    const server = new Server();
    server.addService(aggregatedDiscoveryService(), {
      StreamAggregatedResources: (stream: AdsStream) => this.#serve(stream),
    });
    this.#port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(`${this.options.host}:${this.#port}`, ServerCredentials.createInsecure(), (error, port) =>
        error ? reject(error) : resolve(port),
      ),
    );
    this.#server = server;
  }

  /** Stops listening and cuts every stream, as a crashed or unreachable control plane. */
  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    this.#streams.clear();
    server?.forceShutdown();
  }

  async close(): Promise<void> {
    await this.stop();
  }

  #onlyService(): string {
    const names = [...this.#endpoints.keys()];
    if (names.length !== 1) throw new Error(`name the service: this control plane serves ${names.join(', ')}`);
    return names[0]!;
  }

  #serve(stream: AdsStream): void {
    this.#streamsOpened++;
    const subscriptions = new Map<string, Subscription>();
    this.#streams.set(stream, subscriptions);
    const forget = () => this.#streams.delete(stream);
    stream.on('data', (request: DiscoveryRequest) => this.#handle(stream, subscriptions, request));
    // The client unsubscribed everything (or is going away): finish the stream with OK.
    stream.on('end', () => {
      forget();
      stream.end();
    });
    stream.on('cancelled', forget);
    stream.on('error', forget);
  }

  #handle(stream: AdsStream, subscriptions: Map<string, Subscription>, request: DiscoveryRequest): void {
    const names = [...request.resource_names].sort();
    this.#requests.push({
      typeUrl: request.type_url,
      resourceNames: names,
      responseNonce: request.response_nonce,
      versionInfo: request.version_info,
      errorDetail: request.error_detail ? request.error_detail.message : undefined,
    });
    const subscription = subscriptions.get(request.type_url) ?? { names: [], nonce: '' };
    subscriptions.set(request.type_url, subscription);
    if (this.#silent) {
      subscription.names = names; // answered when the control plane resumes
      return;
    }
    // A request answering an older response is stale: the newer response is still to be answered.
    if (request.response_nonce !== '' && request.response_nonce !== subscription.nonce) return;
    const changed = names.join(',') !== subscription.names.join(',');
    subscription.names = names;
    // An ACK or NACK of what we sent, naming the same resources, needs no answer.
    if (!changed && request.response_nonce !== '') return;
    if (names.length === 0) return; // everything of this type unsubscribed (not a wildcard request)
    this.#respond(stream, request.type_url, subscription);
  }

  #respond(stream: AdsStream, typeUrl: string, subscription: Subscription): void {
    const kind = (Object.keys(XDS_TYPE_URLS) as XdsResourceKind[]).find((k) => XDS_TYPE_URLS[k] === typeUrl);
    if (!kind) return; // a type this control plane does not serve
    subscription.nonce = String(++this.#nonces);
    const catalog = { endpoints: this.#endpoints, routes: this.options.routes, upstreamTls: this.options.upstreamTls };
    const resources = subscription.names.flatMap((name) => xdsResource(kind, name, catalog) ?? []);
    stream.write({ version_info: String(this.#versions[kind]), type_url: typeUrl, nonce: subscription.nonce, resources });
  }
}
