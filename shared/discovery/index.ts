// Service discovery: re-exports only.
export { CloudMapSource, CLOUD_MAP_SOURCE_DEFAULTS, cloudMapClient, type CloudMapSourceOptions } from './cloud-map-source.js';
export { DiscoveryError, isDiscoveryError, type DiscoveryErrorCode, type SourceFailure } from './discovery-error.js';
export { discoveryFromConfig, type DiscoveryFromConfigOptions } from './discovery-from-config.js';
export { clearDiscoveryRegistry, discoveryFor, registerDiscovery, setDefaultDiscovery } from './discovery-registry.js';
export { DISCOVERY_SOURCE_NAMES, type DiscoverySource, type DiscoverySourceName, type DiscoveryTarget } from './discovery-source.js';
export type { Discovery, Resolution, ResolutionSource, ResolveOptions } from './discovery.js';
export { DnsSource, DNS_SOURCE_DEFAULTS, type DnsSourceOptions } from './dns-source.js';
export { MESH_SCHEME, MeshResolver, ROUND_ROBIN_SERVICE_CONFIG, meshTarget, registerMeshResolver, serviceNameOf } from './mesh-resolver.js';
export { MOCK_DISCOVERY_DEFAULTS, MockDiscovery, type MockDiscoveryOptions } from './mock-discovery.js';
export { DEFAULT_GRPC_PORT, formatServiceAddress, parseServiceAddress, sameAddresses, type ServiceAddress } from './service-address.js';
export {
  SERVICE_DISCOVERY_DEFAULTS,
  ServiceDiscovery,
  type DiscoveryStats,
  type ServiceDiscoveryOptions,
  type ServiceDiscoveryOverrides,
  type StaleEvent,
} from './service-discovery.js';
export { StaticSource } from './static-source.js';
export { XDS_BOOTSTRAP_VARIABLES, XdsBootstrapError, xdsBootstrapFromEnv, type XdsBootstrap, type XdsBootstrapVariable } from './xds-bootstrap.js';
export {
  XDS_FALLBACK_DEFAULTS,
  XDS_FALLBACK_SCHEME,
  XDS_RESOLUTION_BUDGET_OPTION,
  XDS_SCHEME,
  XdsFallbackResolver,
  clearXdsFallbackMemory,
  registerXdsFallbackResolver,
} from './xds-fallback-resolver.js';
export { registerXdsPlugin } from './xds-plugin.js';
export { channelTargetFor, xdsTarget } from './xds-target.js';
