import type { DiscoverySourceName } from './discovery-source.js';
import type { ServiceAddress } from './service-address.js';

/** Where a resolution came from; `mock` only from {@link MockDiscovery}. */
export type ResolutionSource = DiscoverySourceName | 'mock';

/** The instances of one service at one moment, as discovery hands them to the channel. */
export interface Resolution {
  /** The mesh service name, e.g. `contact-service`. */
  readonly service: string;
  /** At least one instance; the channel balances round-robin over all of them. */
  readonly addresses: readonly ServiceAddress[];
  readonly source: ResolutionSource;
  /** When the addresses were fetched, in milliseconds of the discovery's clock (`Date.now` by default). */
  readonly resolvedAt: number;
  /** When to look again: the end of the TTL, or for a stale result the next retry. */
  readonly expiresAt: number;
  /** True when every source failed and this is the last good result, served rather than failing calls. */
  readonly stale: boolean;
}

export interface ResolveOptions {
  /** Stops waiting (not the shared lookup other callers may be waiting on). */
  signal?: AbortSignal;
  /**
   * The addresses failed in use (gRPC asked to re-resolve): look again even within the TTL, unless
   * the last look is too recent to be worth repeating.
   */
  refresh?: boolean;
}

/**
 * Resolves a mesh service name to its instances: what the `mesh:` gRPC resolver asks, and what a
 * test replaces with a {@link MockDiscovery}.
 */
export interface Discovery {
  /**
   * The service's instances.
   *
   * @throws {DiscoveryError} when the service cannot be resolved and there is no earlier result to fall back on.
   */
  resolve(service: string, options?: ResolveOptions): Promise<Resolution>;
}
