// The circuit breaker the fleet shares through the mesh-state table: re-exports only.
export { BreakerStoreError, type BreakerStoreErrorCode } from './breaker-store-error.js';
export { breakerKey, CLOSED_RECORD, fleetStateOf, MESH_STATE_ATTRIBUTES, type FleetBreakerRecord } from './fleet-breaker-record.js';
export { createMeshStateTable } from './mesh-state-table.js';
export { MESH_STATE_STORE_DEFAULTS, MeshStateStore, type FleetWrite, type MeshStateStoreOptions } from './mesh-state-store.js';
export {
  containerOwnerId,
  SHARED_BREAKER_DEFAULTS,
  SharedCircuitBreaker,
  type SharedBreakerOptions,
} from './shared-circuit-breaker.js';
export { SlowStart } from './slow-start.js';
