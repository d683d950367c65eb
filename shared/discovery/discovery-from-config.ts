import type { ServiceDiscoveryClient } from '@aws-sdk/client-servicediscovery';
import type { DiscoveryScheme, MeshConfig } from '../config/mesh-config.js';
import { CloudMapSource } from './cloud-map-source.js';
import type { DiscoverySource } from './discovery-source.js';
import { DnsSource } from './dns-source.js';
import { SERVICE_DISCOVERY_DEFAULTS, ServiceDiscovery, type ServiceDiscoveryOverrides } from './service-discovery.js';
import { StaticSource } from './static-source.js';

export type DiscoveryFromConfigOptions = ServiceDiscoveryOverrides & {
  /** The Cloud Map client to use; by default one is built on first use from the environment. */
  cloudMapClient?: ServiceDiscoveryClient;
};

/**
 * The discovery the configuration describes: its services, its sources in `discovery.order`, its
 * TTL, and its DNS servers. `xds` contributes no source here: gRPC resolves it itself (the
 * `xds-fallback:` resolver of `xds-target.ts`), and this discovery, over the sources after it, is
 * what that resolver falls back to.
 */
export function discoveryFromConfig(config: MeshConfig, options: DiscoveryFromConfigOptions = {}): ServiceDiscovery {
  const { cloudMapClient, ...discoveryOptions } = options;
  const budgets = { ...SERVICE_DISCOVERY_DEFAULTS.sourceBudgetMs, ...discoveryOptions.sourceBudgetMs };
  const { namespace, dnsServers, order, ttlSeconds } = config.discovery;

  const sourceFor: Record<DiscoveryScheme, () => DiscoverySource[]> = {
    cloudmap: () => [new CloudMapSource({ namespace, client: cloudMapClient })],
    dns: () => [new DnsSource({ namespace, servers: dnsServers, queryTimeoutMs: budgets.dns })],
    static: () => [new StaticSource()],
    xds: () => [],
  };
  return new ServiceDiscovery(Object.values(config.services), order.flatMap((scheme) => sourceFor[scheme]()), {
    ttlMs: ttlSeconds * 1000,
    ...discoveryOptions,
    sourceBudgetMs: budgets,
  });
}
