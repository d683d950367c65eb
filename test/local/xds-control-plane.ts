/**
 * A minimal xDS control plane for tests and the local mesh: Envoy's
 * `AggregatedDiscoveryService/StreamAggregatedResources` in its state-of-the-world variant, over
 * plaintext gRPC on loopback (as a mesh's control plane is reached through the node's own
 * sidecar-less channel, `"channel_creds": [{"type": "insecure"}]`).
 *
 * Per mesh service `<name>` it serves the chain gRPC's xDS client walks (gRFC A27):
 * Listener `<name>` (an HttpConnectionManager `api_listener` naming a RouteConfiguration by RDS, or
 * carrying it inline) → RouteConfiguration `<name>-route` (virtual host `<name>`, every path to one
 * cluster) → Cluster `<name>-cluster` (type EDS over ADS, round robin) → ClusterLoadAssignment
 * `<name>-cluster` (one locality holding the service's endpoints). Resources are `Any`-packed by
 * protobufjs from their JSON form (`"@type"`), with the Envoy protos grpc-js-xds ships.
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

export const XDS_TYPE_URLS = {
  listener: 'type.googleapis.com/envoy.config.listener.v3.Listener',
  routeConfiguration: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
  cluster: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
  clusterLoadAssignment: 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment',
} as const;
type ResourceKind = keyof typeof XDS_TYPE_URLS;
const HTTP_CONNECTION_MANAGER = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const ROUTER = 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router';

export interface XdsControlPlaneOptions {
  /** Endpoints (`host:port`, IP literals) by mesh service name. */
  services: Record<string, string[]>;
  host: string;
  /** 0 picks a free port (kept across {@link XdsControlPlane.stop} and `start`). */
  port: number;
  /** How the Listener carries its routes: named and served by RDS, or inline. */
  routes: 'rds' | 'inline';
  /** Accept streams and record requests, but never answer: a control plane that hangs. */
  silent: boolean;
}

export const XDS_CONTROL_PLANE_DEFAULTS = {
  host: '127.0.0.1',
  port: 0,
  routes: 'rds',
  silent: false,
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
  readonly #versions: Record<ResourceKind, number> = { listener: 1, routeConfiguration: 1, cluster: 1, clusterLoadAssignment: 1 };
  readonly #streams = new Map<AdsStream, Map<string, Subscription>>();
  readonly #requests: ReceivedRequest[] = [];
  #server: Server | undefined;
  #port: number;
  #nonces = 0;
  #streamsOpened = 0;

  private constructor(options: XdsControlPlaneOptions) {
    this.options = options;
    this.#port = options.port;
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
  bootstrap(nodeId = 'payment-functions~local'): Record<string, unknown> {
    return {
      xds_servers: [{ server_uri: this.address, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] }],
      node: { id: nodeId, cluster: 'payment-functions', locality: { region: 'local', zone: 'loopback' } },
    };
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
    if (this.options.silent) return;
    const subscription = subscriptions.get(request.type_url) ?? { names: [], nonce: '' };
    subscriptions.set(request.type_url, subscription);
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
    const kind = (Object.keys(XDS_TYPE_URLS) as ResourceKind[]).find((k) => XDS_TYPE_URLS[k] === typeUrl);
    if (!kind) return; // a type this control plane does not serve
    subscription.nonce = String(++this.#nonces);
    const resources = subscription.names.flatMap((name) => this.#resource(kind, name) ?? []);
    stream.write({ version_info: String(this.#versions[kind]), type_url: typeUrl, nonce: subscription.nonce, resources });
  }

  /** The resource `name` of `kind`, `Any`-packed in JSON form, or undefined when there is none. */
  #resource(kind: ResourceKind, name: string): Record<string, unknown> | undefined {
    const service = [...this.#endpoints.keys()].find((s) => [s, `${s}-route`, `${s}-cluster`].includes(name));
    if (service === undefined) return undefined;
    const route = {
      name: `${service}-route`,
      virtual_hosts: [{ name: service, domains: [service], routes: [{ match: { prefix: '/' }, route: { cluster: `${service}-cluster` } }] }],
    };
    switch (kind) {
      case 'listener': {
        if (name !== service) return undefined;
        const routes =
          this.options.routes === 'rds' ? { rds: { config_source: { ads: {} }, route_config_name: route.name } } : { route_config: route };
        const manager = { '@type': HTTP_CONNECTION_MANAGER, ...routes, http_filters: [{ name: 'router', typed_config: { '@type': ROUTER } }] };
        return { '@type': XDS_TYPE_URLS.listener, name, api_listener: { api_listener: manager } };
      }
      case 'routeConfiguration':
        return name === route.name ? { '@type': XDS_TYPE_URLS.routeConfiguration, ...route } : undefined;
      case 'cluster':
        if (name !== `${service}-cluster`) return undefined;
        return {
          '@type': XDS_TYPE_URLS.cluster,
          name,
          type: 'EDS',
          eds_cluster_config: { eds_config: { ads: {} }, service_name: name },
          lb_policy: 'ROUND_ROBIN',
        };
      case 'clusterLoadAssignment': {
        if (name !== `${service}-cluster`) return undefined;
        const lbEndpoints = (this.#endpoints.get(service) ?? []).map((address) => {
          const at = address.lastIndexOf(':');
          const socketAddress = { address: address.slice(0, at).replace(/^\[|\]$/g, ''), port_value: Number(address.slice(at + 1)) };
          return { endpoint: { address: { socket_address: socketAddress } }, health_status: 'HEALTHY' };
        });
        return {
          '@type': XDS_TYPE_URLS.clusterLoadAssignment,
          cluster_name: name,
          endpoints: [{ locality: { region: 'local', zone: 'loopback' }, load_balancing_weight: { value: 1 }, lb_endpoints: lbEndpoints }],
        };
      }
    }
  }
}
