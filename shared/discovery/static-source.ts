import { DiscoveryError } from './discovery-error.js';
import type { DiscoverySource, DiscoveryTarget } from './discovery-source.js';
import type { ServiceAddress } from './service-address.js';

/**
 * The last fallback: the service's configured `EXTERNAL_SERVICES_<KEY>_ADDRESS`.
 *
 * @throws {DiscoveryError} `DISCOVERY_NOT_CONFIGURED` when the service has no static address.
 */
export class StaticSource implements DiscoverySource {
  readonly name = 'static';

  async resolve(service: DiscoveryTarget): Promise<ServiceAddress[]> {
    if (service.address === undefined) {
      throw new DiscoveryError('DISCOVERY_NOT_CONFIGURED', `service ${service.name} has no static address configured`, {
        service: service.name,
      });
    }
    return [{ host: service.address.host, port: service.address.port }];
  }
}
