import type { HttpInstanceSummary, ServiceDiscoveryClient } from '@aws-sdk/client-servicediscovery';
import { isIP } from 'node:net';
import { DiscoveryError } from './discovery-error.js';
import type { DiscoverySource, DiscoveryTarget } from './discovery-source.js';
import { DEFAULT_GRPC_PORT, portOf, type ServiceAddress } from './service-address.js';

export interface CloudMapSourceOptions {
  /** The Cloud Map namespace (`SERVICE_MESH_DISCOVERY_NAMESPACE`); without one the source is skipped. */
  namespace: string | undefined;
  /** A client to use; by default {@link cloudMapClient} builds one on first use. */
  client: ServiceDiscoveryClient | undefined;
}

export const CLOUD_MAP_SOURCE_DEFAULTS: CloudMapSourceOptions = { namespace: undefined, client: undefined };

/**
 * The Cloud Map SDK, imported at the first request (the module loader keeps it once loaded, and
 * tries again after a failed load): a container whose discovery DNS answers, or that resolves from
 * its cache, never loads it (10–150 ms of a cold start; see `shared/cold-start/aws-sdk-preload.ts`).
 */
const loadCloudMapSdk = () => import('@aws-sdk/client-servicediscovery');

/** Cloud Map's errors that mean "slow down": fall through to DNS rather than wait. */
const THROTTLING = new Set(['RequestLimitExceeded', 'ThrottlingException', 'TooManyRequestsException']);

/**
 * Discovers instances through Cloud Map's `DiscoverInstances` (the data-plane API meant for
 * lookups). `HEALTHY_OR_ELSE_ALL` answers every instance when none is healthy: a health check
 * that is wrong everywhere must not take the service down, and gRPC's own connection handling
 * skips instances that really are down.
 */
export class CloudMapSource implements DiscoverySource {
  readonly name = 'cloudmap';
  readonly #options: CloudMapSourceOptions;
  #client: Promise<ServiceDiscoveryClient> | undefined;
  #calls = 0;

  constructor(options: Partial<CloudMapSourceOptions> = {}) {
    this.#options = { ...CLOUD_MAP_SOURCE_DEFAULTS, ...options };
    if (this.#options.client !== undefined) this.#client = Promise.resolve(this.#options.client);
  }

  /** How many `DiscoverInstances` requests were sent; for tests and the benchmark. */
  get callCount(): number {
    return this.#calls;
  }

  /**
   * The instances Cloud Map lists for the service, from their `AWS_INSTANCE_IPV4`/`_IPV6` and
   * `AWS_INSTANCE_PORT` attributes (instances without an IP are skipped).
   *
   * @throws {DiscoveryError} `DISCOVERY_NOT_CONFIGURED` without a namespace, `DISCOVERY_THROTTLED`
   *   on throttling, `DISCOVERY_TIMEOUT` when `signal` aborted, `DISCOVERY_SOURCE_FAILED` otherwise.
   */
  async resolve(service: DiscoveryTarget, signal: AbortSignal): Promise<ServiceAddress[]> {
    const namespace = this.#options.namespace;
    if (namespace === undefined) {
      throw new DiscoveryError('DISCOVERY_NOT_CONFIGURED', 'cloud map needs SERVICE_MESH_DISCOVERY_NAMESPACE to be set', {
        service: service.name,
      });
    }
    this.#calls++;
    let answer;
    try {
      const [{ DiscoverInstancesCommand }, client] = await Promise.all([loadCloudMapSdk(), this.#clientOnce()]);
      answer = await client.send(
        new DiscoverInstancesCommand({
          NamespaceName: namespace,
          ServiceName: service.name,
          HealthStatus: 'HEALTHY_OR_ELSE_ALL',
        }),
        { abortSignal: signal },
      );
    } catch (error) {
      throw cloudMapFailure(service.name, namespace, error, signal);
    }
    const defaultPort = service.address?.port ?? DEFAULT_GRPC_PORT;
    return (answer.Instances ?? []).flatMap((instance) => addressesOf(instance, defaultPort));
  }

  /** The client, built from the environment on first use; a failed build is tried again next time. */
  #clientOnce(): Promise<ServiceDiscoveryClient> {
    this.#client ??= cloudMapClient().catch((error: unknown) => {
      this.#client = undefined;
      throw error;
    });
    return this.#client;
  }
}

/**
 * A Cloud Map client for this container. `DiscoverInstances` is sent to `data-servicediscovery…`
 * (the model's `data-` host prefix); behind an endpoint override (`AWS_ENDPOINT_URL_SERVICEDISCOVERY`
 * or `AWS_ENDPOINT_URL`, e.g. a local emulator on 127.0.0.1) that prefix would make the host
 * `data-127.0.0.1`, so it is turned off there. One attempt only: the fallback to DNS is the retry,
 * and retrying a throttled call only adds to the throttling. The SDK is imported here, on first
 * use, not when this module loads.
 */
export async function cloudMapClient(env: NodeJS.ProcessEnv = process.env): Promise<ServiceDiscoveryClient> {
  const { ServiceDiscoveryClient } = await loadCloudMapSdk();
  const overridden =
    env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS !== 'true' &&
    Boolean(env.AWS_ENDPOINT_URL_SERVICEDISCOVERY?.trim() || env.AWS_ENDPOINT_URL?.trim());
  return new ServiceDiscoveryClient({ maxAttempts: 1, ...(overridden ? { disableHostPrefix: true } : {}) });
}

function addressesOf(instance: HttpInstanceSummary, defaultPort: number): ServiceAddress[] {
  const attributes = instance.Attributes ?? {};
  const port = portOf(attributes.AWS_INSTANCE_PORT) ?? defaultPort;
  return [attributes.AWS_INSTANCE_IPV4, attributes.AWS_INSTANCE_IPV6]
    .filter((host): host is string => host !== undefined && isIP(host) !== 0)
    .map((host) => ({ host, port }));
}

function cloudMapFailure(service: string, namespace: string, error: unknown, signal: AbortSignal): DiscoveryError {
  const name = error instanceof Error ? error.name : String(error);
  const where = `cloud map DiscoverInstances for ${service} in namespace ${namespace}`;
  if (signal.aborted) {
    return new DiscoveryError('DISCOVERY_TIMEOUT', `${where} did not answer within its time budget`, { service }, { cause: error });
  }
  if (THROTTLING.has(name)) {
    return new DiscoveryError('DISCOVERY_THROTTLED', `${where} was throttled: ${name}`, { service }, { cause: error });
  }
  return new DiscoveryError('DISCOVERY_SOURCE_FAILED', `${where} failed: ${name}`, { service }, { cause: error });
}
