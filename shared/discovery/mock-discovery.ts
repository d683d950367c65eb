import { DiscoveryError } from './discovery-error.js';
import type { Discovery, Resolution } from './discovery.js';
import { parseServiceAddress, type ServiceAddress } from './service-address.js';

export interface MockDiscoveryOptions {
  /** How long a resolver keeps an answer before asking again, so re-registrations reach open channels. */
  ttlMs: number;
  now: () => number;
}

export const MOCK_DISCOVERY_DEFAULTS: MockDiscoveryOptions = { ttlMs: 1_000, now: Date.now };

/**
 * Discovery from a table the test fills, like the mesh's Go services' mock:
 * `new MockDiscovery().register('contact-service', '127.0.0.1:50051')`.
 */
export class MockDiscovery implements Discovery {
  readonly #options: MockDiscoveryOptions;
  readonly #services = new Map<string, ServiceAddress[]>();
  readonly #lookups = new Map<string, number>();

  constructor(options: Partial<MockDiscoveryOptions> = {}) {
    this.#options = { ...MOCK_DISCOVERY_DEFAULTS, ...options };
  }

  /**
   * Makes `service` resolve to `addresses` (`host:port` or `[ipv6]:port`), replacing earlier ones.
   *
   * @throws {DiscoveryError} `DISCOVERY_BAD_ADDRESS` for an address that does not parse,
   *   `DISCOVERY_NO_INSTANCES` when no address is given (use {@link deregister}).
   */
  register(service: string, ...addresses: string[]): this {
    if (addresses.length === 0) {
      throw new DiscoveryError('DISCOVERY_NO_INSTANCES', `register ${service} with at least one address`, { service });
    }
    this.#services.set(service, addresses.map((a) => parseServiceAddress(a, service)));
    return this;
  }

  /** Makes `service` unknown again. */
  deregister(service: string): this {
    this.#services.delete(service);
    return this;
  }

  /** How many times `service` was resolved. */
  lookupCount(service: string): number {
    return this.#lookups.get(service) ?? 0;
  }

  /**
   * The registered addresses of `service`.
   *
   * @throws {DiscoveryError} `DISCOVERY_UNKNOWN_SERVICE` when it is not registered.
   */
  async resolve(service: string): Promise<Resolution> {
    this.#lookups.set(service, this.lookupCount(service) + 1);
    const addresses = this.#services.get(service);
    if (addresses === undefined) {
      throw new DiscoveryError('DISCOVERY_UNKNOWN_SERVICE', `service ${service} is not registered with the mock discovery`, { service });
    }
    const now = this.#options.now();
    return { service, addresses: [...addresses], source: 'mock', resolvedAt: now, expiresAt: now + this.#options.ttlMs, stale: false };
  }
}
