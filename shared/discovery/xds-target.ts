import type { MeshConfig } from '../config/mesh-config.js';
import { meshTarget } from './mesh-resolver.js';
import { xdsBootstrapFromEnv } from './xds-bootstrap.js';
import { XDS_FALLBACK_SCHEME, registerXdsFallbackResolver } from './xds-fallback-resolver.js';
import { registerXdsPlugin } from './xds-plugin.js';

/**
 * The channel target of `service` resolved by xDS with the mesh's own discovery as fallback,
 * `xds-fallback:///<service>` (see `XdsFallbackResolver`), with grpc-js-xds and both schemes
 * registered.
 *
 * @throws {DiscoveryError} `DISCOVERY_NOT_CONFIGURED` when grpc-js-xds cannot be used (see `registerXdsPlugin`).
 */
export function xdsTarget(service: string): string {
  registerXdsPlugin(service);
  registerXdsFallbackResolver();
  return `${XDS_FALLBACK_SCHEME}:///${service}`;
}

/**
 * How channels to mesh services are addressed under `config.discovery.scheme`: through xDS
 * (`xds-fallback:///<service>`) when it is `xds`, through the `mesh:` resolver over the discovery
 * sources otherwise. Call it at init: with `xds` it checks the bootstrap in `env` (grpc-js-xds
 * reads `process.env`) and loads grpc-js-xds, so a deployment that cannot use xDS fails its cold
 * start instead of its calls.
 *
 * Whatever the target, the channel is the same `MeshChannel`: our SVID, the server authorised by
 * SPIFFE ID, the service name as `:authority` and TLS server name. xDS chooses endpoints only;
 * security configured by the control plane (an `UpstreamTlsContext` on a cluster) is not applied,
 * because the channel's credentials are ordinary TLS credentials, not grpc-js-xds's
 * `XdsChannelCredentials`.
 *
 * @throws {XdsBootstrapError} when the scheme is `xds` and the bootstrap is missing (the message
 *   names `GRPC_XDS_BOOTSTRAP` and `GRPC_XDS_BOOTSTRAP_CONFIG`), unreadable or invalid.
 * @throws {DiscoveryError} `DISCOVERY_NOT_CONFIGURED` when the scheme is `xds` and grpc-js-xds cannot be used.
 */
export function channelTargetFor(config: MeshConfig, env: NodeJS.ProcessEnv = process.env): (service: string) => string {
  if (config.discovery.scheme !== 'xds') return meshTarget;
  xdsBootstrapFromEnv(env);
  // Load the plugin now (under the name of the first service, for the message) rather than on the first call.
  const first = Object.keys(config.services)[0];
  if (first !== undefined) xdsTarget(first);
  return xdsTarget;
}
