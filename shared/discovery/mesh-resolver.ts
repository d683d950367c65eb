import { Metadata, status, experimental, type ChannelOptions, type ServiceConfig } from '@grpc/grpc-js';
import { DiscoveryError } from './discovery-error.js';
import { discoveryFor } from './discovery-registry.js';
import type { Resolution } from './discovery.js';
import { sameAddresses, type ServiceAddress } from './service-address.js';

/** The URI scheme of mesh targets: `mesh:///contact-service`. */
export const MESH_SCHEME = 'mesh';

/** Balance every call over all instances; gRPC's default (pick_first) would pin one. */
export const ROUND_ROBIN_SERVICE_CONFIG: ServiceConfig = { loadBalancingConfig: [{ round_robin: {} }], methodConfig: [] };

/** Retry a failed resolution after 1 s, doubling up to 30 s. */
const RETRY_MIN_MS = 1_000;
const RETRY_MAX_MS = 30_000;
/**
 * Re-resolution requests are served at most this often. grpc-js relies on resolvers to rate-limit
 * (its DNS resolver waits 30 s): round_robin asks again whenever a READY balancer gets a new
 * address list, so a resolver answering at once from a cache loops without yielding to I/O.
 */
const MIN_RERESOLVE_INTERVAL_MS = 1_000;
const MIN_DELAY_MS = 50;

const SERVICE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * grpc-js's resolver for `mesh:///<service>` targets: resolves the service through its
 * {@link Discovery} (see `discovery-registry.ts`) and hands the channel every instance with a
 * service config selecting `round_robin`.
 *
 * Two things make it re-resolve:
 * - gRPC calls {@link updateResolution} when a connection fails or drops (an instance refusing
 *   connections, or shut down). That asks discovery with `refresh`, which skips the TTL cache
 *   unless the last look is only seconds old: a replaced instance is found at once, while a
 *   flapping one cannot turn every reconnect attempt into a Cloud Map call. Such requests are
 *   served at most once a second.
 * - a timer at the result's expiry, so an instance deregistered from Cloud Map but still up stops
 *   getting calls once the TTL ends, which connection failures alone would never tell gRPC.
 *
 * After the first result only changes are reported: every report rebuilds the balancer's
 * subchannel list (and makes round_robin ask for re-resolution again), while an unchanged list
 * needs nothing: the balancer already skips the instances it cannot reach.
 *
 * The timer is unref'd (it never keeps a process alive) and {@link destroy} stops it; gRPC
 * destroys the resolver when the channel closes or goes idle.
 */
export class MeshResolver implements experimental.Resolver {
  readonly #service: string;
  readonly #listener: experimental.ResolverListener;
  readonly #serviceConfig: experimental.StatusOr<ServiceConfig> | null;
  #generation = 0;
  #pending = false;
  #mustReport = false;
  #reported: readonly ServiceAddress[] | undefined;
  #failedLast = false;
  #failures = 0;
  #lastLookupAt = Number.NEGATIVE_INFINITY;
  #refreshDue = false;
  #timer: NodeJS.Timeout | undefined;
  #timerAt = Number.POSITIVE_INFINITY;

  constructor(target: experimental.GrpcUri, listener: experimental.ResolverListener, channelOptions: ChannelOptions) {
    this.#service = serviceNameOf(target);
    this.#listener = listener;
    // `grpc.service_config_disable_resolution` asks resolvers not to supply a service config.
    const disabled = channelOptions['grpc.service_config_disable_resolution'] === 1;
    this.#serviceConfig = disabled ? null : experimental.statusOrFromValue(ROUND_ROBIN_SERVICE_CONFIG);
  }

  /** The service name: the channel's default `:authority`, as the transport also sets it. */
  static getDefaultAuthority(target: experimental.GrpcUri): string {
    return serviceNameOf(target);
  }

  updateResolution(): void {
    // The first request is the channel starting; later ones mean the addresses failed in use.
    if (this.#reported === undefined) {
      this.#mustReport = true;
      this.#resolve(false);
      return;
    }
    const wait = this.#lastLookupAt + MIN_RERESOLVE_INTERVAL_MS - Date.now();
    if (wait > 0) {
      this.#refreshDue = true;
      if (Date.now() + wait < this.#timerAt) this.#schedule(wait);
      return;
    }
    this.#resolve(true);
  }

  destroy(): void {
    this.#generation++;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
    this.#pending = false;
    this.#mustReport = false;
    this.#reported = undefined;
    this.#failedLast = false;
    this.#failures = 0;
    this.#lastLookupAt = Number.NEGATIVE_INFINITY;
    this.#refreshDue = false;
  }

  #resolve(refresh: boolean): void {
    if (this.#pending) return; // the lookup under way reports when it ends
    this.#pending = true;
    this.#refreshDue = false;
    this.#lastLookupAt = Date.now();
    const generation = this.#generation;
    const service = this.#service;
    const lookup = Promise.resolve().then(() => {
      const discovery = discoveryFor(service);
      if (discovery === undefined) {
        const message = `no discovery is registered for service ${service}: call registerDiscovery or setDefaultDiscovery first`;
        throw new DiscoveryError('DISCOVERY_NOT_CONFIGURED', message, { service });
      }
      return discovery.resolve(service, { refresh });
    });
    lookup.then(
      (resolution) => generation === this.#generation && this.#succeeded(resolution),
      (error: unknown) => generation === this.#generation && this.#failed(error),
    );
  }

  #succeeded(resolution: Resolution): void {
    this.#pending = false;
    this.#failures = 0;
    // Scheduled before reporting: the report can make gRPC ask again at once, which must not be lost.
    this.#schedule(resolution.expiresAt - Date.now());
    const changed = this.#failedLast || this.#reported === undefined || !sameAddresses(this.#reported, resolution.addresses);
    if (this.#mustReport || changed) {
      this.#mustReport = false;
      this.#failedLast = false;
      this.#reported = resolution.addresses;
      const endpoints = resolution.addresses.map(({ host, port }) => ({ addresses: [{ host, port }] }));
      const note = `${resolution.stale ? 'stale result' : 'result'} of ${resolution.source} discovery`;
      this.#listener(experimental.statusOrFromValue(endpoints), {}, this.#serviceConfig, note);
    }
  }

  #failed(error: unknown): void {
    this.#pending = false;
    this.#failures++;
    this.#mustReport = false;
    this.#failedLast = true;
    this.#schedule(Math.min(RETRY_MIN_MS * 2 ** (this.#failures - 1), RETRY_MAX_MS));
    const details = `mesh discovery of ${this.#service} failed: ${error instanceof Error ? error.message : String(error)}`;
    // With earlier addresses the balancer keeps them; without, calls fail UNAVAILABLE with these details.
    this.#listener(experimental.statusOrFromError({ code: status.UNAVAILABLE, details, metadata: new Metadata() }), {}, this.#serviceConfig, details);
  }

  #schedule(delayMs: number): void {
    clearTimeout(this.#timer);
    const delay = Math.max(delayMs, MIN_DELAY_MS);
    this.#timerAt = Date.now() + delay;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#timerAt = Number.POSITIVE_INFINITY;
      this.#resolve(this.#refreshDue);
    }, delay).unref();
  }
}

/**
 * `contact-service` of `mesh:///contact-service` (or `mesh:contact-service`).
 *
 * @throws {DiscoveryError} `DISCOVERY_BAD_ADDRESS` for a target with an authority or a path that is not a service name.
 */
export function serviceNameOf(target: experimental.GrpcUri): string {
  const name = target.path.replace(/^\/+/, '');
  if ((target.authority ?? '') !== '' || !SERVICE_NAME.test(name)) {
    throw new DiscoveryError(
      'DISCOVERY_BAD_ADDRESS',
      `mesh target must be mesh:///<service name>, got ${JSON.stringify(experimental.uriToString(target))}`,
      { service: name },
    );
  }
  return name;
}

let registered = false;

/** Registers the `mesh:` scheme with grpc-js (once; later calls do nothing). Channels created before it would treat `mesh:` as a DNS name. */
export function registerMeshResolver(): void {
  if (registered) return;
  experimental.registerResolver(MESH_SCHEME, MeshResolver);
  registered = true;
}

/** The channel target of `service`, `mesh:///<service>`, with the `mesh:` scheme registered. */
export function meshTarget(service: string): string {
  registerMeshResolver();
  return `${MESH_SCHEME}:///${service}`;
}
