import type { ServiceConfig } from '../config/mesh-config.js';
import type { ServiceAddress } from './service-address.js';

/** The sources of the fallback chain of DESIGN.md, by the names `SERVICE_MESH_DISCOVERY_SCHEME` uses. */
export type DiscoverySourceName = 'cloudmap' | 'dns' | 'static';
export const DISCOVERY_SOURCE_NAMES = ['cloudmap', 'dns', 'static'] as const satisfies readonly DiscoverySourceName[];

/** What discovery needs of a service: its mesh name and, for the static fallback and default port, its address. */
export type DiscoveryTarget = Pick<ServiceConfig, 'name' | 'address'>;

/**
 * One place service addresses come from. `resolve` answers the instances it knows (an empty list
 * when it knows none) and stops work when `signal` aborts, which is how the caller bounds its time.
 *
 * Implementations throw {@link DiscoveryError} with a source code (`DISCOVERY_THROTTLED`,
 * `DISCOVERY_NOT_CONFIGURED`, …) so the fallback can report why each source failed.
 */
export interface DiscoverySource {
  readonly name: DiscoverySourceName;
  resolve(service: DiscoveryTarget, signal: AbortSignal): Promise<ServiceAddress[]>;
}
