/**
 * The xDS resources of test/local/xds-control-plane.ts, in the JSON form protobufjs packs into
 * `google.protobuf.Any` (`"@type"` names the message). For a mesh service `<name>`:
 *
 * - Listener `<name>`: an HttpConnectionManager `api_listener` (gRPC's client listener) naming its
 *   RouteConfiguration for RDS, or carrying it inline; the router filter last, as gRPC requires;
 * - RouteConfiguration `<name>-route`: virtual host `<name>` (gRPC matches it against the channel's
 *   authority), every path to cluster `<name>-cluster`;
 * - Cluster `<name>-cluster`: type EDS over ADS, round robin, optionally with an UpstreamTlsContext;
 * - ClusterLoadAssignment `<name>-cluster`: one locality (weight 1) holding the endpoints.
 */

export const XDS_TYPE_URLS = {
  listener: 'type.googleapis.com/envoy.config.listener.v3.Listener',
  routeConfiguration: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
  cluster: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
  clusterLoadAssignment: 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment',
} as const;
export type XdsResourceKind = keyof typeof XDS_TYPE_URLS;

const HTTP_CONNECTION_MANAGER = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const ROUTER = 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router';
const UPSTREAM_TLS_CONTEXT = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext';

/** xDS-provided security for a cluster: the CA certificate provider (from the client's bootstrap) and the SAN required. */
export interface UpstreamTls {
  caCertificateProvider: string;
  subjectAltName: string;
}

/** What the control plane knows. */
export interface XdsCatalog {
  /** Endpoints (`host:port`, IP literals) by mesh service name. */
  endpoints: ReadonlyMap<string, readonly string[]>;
  routes: 'rds' | 'inline';
  upstreamTls: Readonly<Record<string, UpstreamTls>>;
}

/** The resource `name` of `kind`, or undefined when the catalog has none. */
export function xdsResource(kind: XdsResourceKind, name: string, catalog: XdsCatalog): Record<string, unknown> | undefined {
  const service = [...catalog.endpoints.keys()].find((s) => [s, `${s}-route`, `${s}-cluster`].includes(name));
  if (service === undefined) return undefined;
  const cluster = `${service}-cluster`;
  const route = {
    name: `${service}-route`,
    virtual_hosts: [{ name: service, domains: [service], routes: [{ match: { prefix: '/' }, route: { cluster } }] }],
  };
  switch (kind) {
    case 'listener': {
      if (name !== service) return undefined;
      const routes = catalog.routes === 'rds' ? { rds: { config_source: { ads: {} }, route_config_name: route.name } } : { route_config: route };
      const manager = { '@type': HTTP_CONNECTION_MANAGER, ...routes, http_filters: [{ name: 'router', typed_config: { '@type': ROUTER } }] };
      return { '@type': XDS_TYPE_URLS.listener, name, api_listener: { api_listener: manager } };
    }
    case 'routeConfiguration':
      return name === route.name ? { '@type': XDS_TYPE_URLS.routeConfiguration, ...route } : undefined;
    case 'cluster': {
      if (name !== cluster) return undefined;
      const tls = catalog.upstreamTls[service];
      const transportSocket = tls && {
        name: 'envoy.transport_sockets.tls',
        typed_config: {
          '@type': UPSTREAM_TLS_CONTEXT,
          common_tls_context: {
            validation_context: {
              ca_certificate_provider_instance: { instance_name: tls.caCertificateProvider },
              match_subject_alt_names: [{ exact: tls.subjectAltName }],
            },
          },
        },
      };
      return {
        '@type': XDS_TYPE_URLS.cluster,
        name,
        type: 'EDS',
        eds_cluster_config: { eds_config: { ads: {} }, service_name: name },
        lb_policy: 'ROUND_ROBIN',
        ...(transportSocket ? { transport_socket: transportSocket } : {}),
      };
    }
    case 'clusterLoadAssignment': {
      if (name !== cluster) return undefined;
      const lbEndpoints = (catalog.endpoints.get(service) ?? []).map((address) => {
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
