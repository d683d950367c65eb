// The mesh configuration: re-exports only.
export { loadMeshConfig } from './load-mesh-config.js';
export {
  DISCOVERY_SCHEMES,
  MESH_DEFAULTS,
  discoveryOrder,
  type CircuitBreakerConfig,
  type DiscoveryScheme,
  type MeshConfig,
  type ServiceConfig,
  type SharedBreakerConfig,
} from './mesh-config.js';
export { secretsManagerAccessFromEnv } from './secrets-manager-access-config.js';
