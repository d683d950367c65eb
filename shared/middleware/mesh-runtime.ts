import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { ServiceDiscoveryClient } from '@aws-sdk/client-servicediscovery';
import type { MeshConfig, ServiceConfig } from '../config/mesh-config.js';
import { discoveryFromConfig } from '../discovery/discovery-from-config.js';
import { registerDiscovery } from '../discovery/discovery-registry.js';
import type { Discovery } from '../discovery/discovery.js';
import { channelTargetFor } from '../discovery/xds-target.js';
import { ConfigError } from '../errors.js';
import { IdentitySource } from '../identity/identity-source.js';
import type { SvidMaterial } from '../identity/svid-material.js';
import { svidFetcherFor } from '../identity/svid-fetcher.js';
import { instrumentIdentity } from '../observability/instrument-identity.js';
import { instrumentPolicy, recordPolicyRejection } from '../observability/instrument-policy.js';
import type { MeshTelemetry } from '../observability/mesh-telemetry.js';
import { staleDiscoveryReporter } from '../observability/stale-discovery.js';
import type { Clock } from '../resilience/deadline.js';
import type { BreakerFactory } from '../resilience/service-breaker.js';
import { MeshStateStore } from '../resilience/shared-breaker/mesh-state-store.js';
import {
  containerOwnerId,
  SHARED_BREAKER_DEFAULTS,
  SharedCircuitBreaker,
} from '../resilience/shared-breaker/shared-circuit-breaker.js';
import { ServicePolicy } from '../resilience/service-policy.js';
import type { CallExecutor } from '../transport/call-executor.js';
import { ContactClient } from '../transport/contact-client.js';
import { MeshHealthClient } from '../transport/health-client.js';
import { MeshChannel, type MeshChannelOptions } from '../transport/mesh-channel.js';

/** The Lambda context's clock: what bounds every call's deadline. */
export interface Invocation {
  getRemainingTimeInMillis(): number;
}

export interface MeshRuntimeOptions {
  config: MeshConfig;
  telemetry: MeshTelemetry;
  /** The SVID source; by default built from `config.svid` (secret in AWS, files locally). */
  identity?: IdentitySource;
  /** Service discovery; by default built from `config.discovery`. */
  discovery?: Discovery;
  secretsManager?: SecretsManagerClient;
  cloudMapClient?: ServiceDiscoveryClient;
  /** Channel tuning (idle recycling, extra grpc-js options) for every service. */
  channel?: Partial<Pick<MeshChannelOptions, 'maxIdleMs' | 'channelOptions'>>;
  /** Time kept back from the Lambda's remaining time so a handler can still answer. */
  safetyMarginMs?: number;
  /** The fleet's breaker store when `config.sharedBreaker` is set; by default one on its table. */
  meshStateStore?: MeshStateStore;
  /** This container's name in the fleet's probe leases; random by default. */
  containerId?: string;
  /** The clock of every policy and breaker (`Date.now()` by default): a simulation drives it. */
  clock?: Clock;
}

/** One mesh service as the runtime holds it: a channel and the policy every call goes through. */
export interface MeshService {
  readonly config: ServiceConfig;
  readonly channel: MeshChannel;
  readonly policy: ServicePolicy;
}

/**
 * The mesh layer of one Lambda container: the identity source, discovery, and per service a
 * channel and a policy, all created lazily and reused across warm invocations. Handlers never see
 * it; the mesh middleware hands them typed clients bound to their invocation's deadline.
 */
export class MeshRuntime {
  readonly config: MeshConfig;
  readonly identity: IdentitySource;
  readonly telemetry: MeshTelemetry;
  readonly discovery: Discovery;
  readonly #options: MeshRuntimeOptions;
  /** `mesh:///<name>`, or `xds-fallback:///<name>` when the discovery scheme is `xds`. */
  readonly #target: (service: string) => string;
  readonly #services = new Map<string, MeshService>();
  readonly #cleanups: (() => void)[] = [];
  readonly #breakerOf: BreakerFactory | undefined;
  /** The fleet's breaker store when breakers are shared (`MESH_STATE_TABLE`); undefined otherwise. */
  readonly meshState: MeshStateStore | undefined;
  #lookedUpAhead = false;

  /**
   * @throws {ConfigError} `CONFIG_INVALID` when the mesh or mTLS is switched off: every mesh
   *   service only accepts mTLS from an SVID, so there is no plaintext mode to fall back to.
   * @throws {IdentityError} `IDENTITY_SOURCE_NOT_CONFIGURED` when no SVID source is configured.
   * @throws {XdsBootstrapError} when the discovery scheme is `xds` and `GRPC_XDS_BOOTSTRAP` /
   *   `GRPC_XDS_BOOTSTRAP_CONFIG` is missing or invalid (see `channelTargetFor`).
   */
  constructor(options: MeshRuntimeOptions) {
    if (!options.config.enabled || !options.config.mtlsEnabled) {
      const key = options.config.enabled ? 'MTLS_ENABLED' : 'SERVICE_MESH_ENABLED';
      throw new ConfigError('CONFIG_INVALID', `${key} must be true: mesh services accept only mutual TLS between SPIFFE identities, got "false"`);
    }
    this.#options = options;
    this.#target = channelTargetFor(options.config);
    this.config = options.config;
    this.telemetry = options.telemetry;
    if (options.identity) {
      this.identity = options.identity;
    } else {
      const { fetch, description } = svidFetcherFor(options.config.svid, { access: options.config.secretsManager, client: options.secretsManager });
      this.identity = new IdentitySource(fetch, description);
    }
    this.discovery =
      options.discovery ??
      discoveryFromConfig(options.config, {
        ...(options.cloudMapClient ? { cloudMapClient: options.cloudMapClient } : {}),
        onStale: staleDiscoveryReporter(options.telemetry.logger),
      });
    for (const name of Object.keys(options.config.services)) {
      this.#cleanups.push(registerDiscovery(name, this.discovery));
    }
    const shared = options.config.sharedBreaker;
    this.meshState = shared === undefined ? undefined : (options.meshStateStore ?? new MeshStateStore({ tableName: shared.table }));
    this.#breakerOf = shared === undefined || this.meshState === undefined ? undefined : sharedBreakerFactory(shared, options, this.meshState);
    this.#cleanups.push(instrumentIdentity(this.identity, options.telemetry));
  }

  /**
   * The function's SVID, loaded or refreshed when due (see {@link IdentitySource.current}).
   *
   * At a cold start (no SVID loaded yet) it also starts resolving every configured service and,
   * with a shared breaker, reading each service's fleet breaker, so that the Secrets Manager,
   * Cloud Map and DynamoDB round trips overlap instead of following each other: the first call
   * finds its addresses and the fleet's state known or on the way (single flight). A lookup that
   * fails here is dropped; the call's own lookup (errors never cached) reports it. xDS resolves
   * on its own.
   *
   * @throws {IdentityError} as {@link IdentitySource.current}.
   */
  currentSvid(): Promise<SvidMaterial> {
    if (!this.#lookedUpAhead && this.identity.peek() === undefined) {
      this.#lookedUpAhead = true;
      if (this.config.discovery.scheme !== 'xds') {
        for (const name of Object.keys(this.config.services)) this.discovery.resolve(name).catch(() => {});
      }
      // Never rejects (a failed read is reported and the breaker goes on locally); the first call
      // awaits the same read rather than starting another.
      if (this.#breakerOf) for (const name of Object.keys(this.config.services)) void this.service(name).policy.syncBreaker();
    }
    return this.identity.current();
  }

  /**
   * The channel and policy of the service named `name`, created on first use.
   *
   * @throws {ConfigError} `CONFIG_INVALID` when no `EXTERNAL_SERVICES_<KEY>_*` configures `name`.
   */
  service(name: string): MeshService {
    const existing = this.#services.get(name);
    if (existing) return existing;
    const config = this.config.services[name];
    if (!config) {
      const known = Object.keys(this.config.services).join(', ') || 'none';
      throw new ConfigError('CONFIG_INVALID', `mesh service ${JSON.stringify(name)} is not configured (configured: ${known})`);
    }
    const policy = new ServicePolicy(
      {
        service: name,
        timeoutSeconds: config.timeoutSeconds,
        maxConcurrentCalls: config.maxConcurrentCalls,
        circuitBreaker: config.circuitBreaker,
        ...(this.#options.safetyMarginMs === undefined ? {} : { safetyMarginMs: this.#options.safetyMarginMs }),
      },
      this.#options.clock,
      this.#breakerOf,
    );
    // The channel refuses any server the matcher rejects, so a successful call's peer is the
    // configured identity.
    this.#cleanups.push(instrumentPolicy(policy, { ...this.telemetry, peer: () => config.spiffeId }));
    const channel = new MeshChannel({
      service: name,
      target: this.#target(name),
      identity: this.identity,
      authorize: config.authorize,
      ...this.#options.channel,
    });
    const service = { config, channel, policy };
    this.#services.set(name, service);
    return service;
  }

  /**
   * An executor for calls to `name` within `invocation`: every call runs under the service's
   * policy with a deadline bounded by the Lambda's remaining time, and policy rejections are
   * recorded in metrics and logs.
   */
  executor(name: string, invocation?: Invocation): CallExecutor {
    const { policy } = this.service(name);
    const telemetry = this.telemetry;
    const remainingTimeMs = invocation ? () => invocation.getRemainingTimeInMillis() : undefined;
    return async function executeUnderPolicy(call, attempt) {
      try {
        return await policy.execute({ ...call, ...(remainingTimeMs ? { remainingTimeMs } : {}) }, attempt);
      } catch (error) {
        recordPolicyRejection(telemetry, error);
        throw error;
      }
    };
  }

  /**
   * The contact-service client for one invocation: the service configured under
   * `EXTERNAL_SERVICES_CONTACT_SERVICE_*`, whatever mesh name `_NAME` gives it.
   *
   * @throws {ConfigError} `CONFIG_INVALID` when no such service is configured.
   */
  contactClient(invocation?: Invocation): ContactClient {
    const name = this.#nameOfKey('CONTACT_SERVICE');
    return new ContactClient(this.service(name).channel, { executor: this.executor(name, invocation) });
  }

  #nameOfKey(key: string): string {
    const service = Object.values(this.config.services).find((s) => s.key === key);
    if (!service) {
      throw new ConfigError('CONFIG_INVALID', `EXTERNAL_SERVICES_${key}_* must configure the ${key.toLowerCase().replaceAll('_', '-')}, got no such variables`);
    }
    return service.name;
  }

  /** A `grpc.health.v1` client for the service named `name`, for one invocation. */
  healthClient(name: string, invocation?: Invocation): MeshHealthClient {
    return new MeshHealthClient(this.service(name).channel, { executor: this.executor(name, invocation) });
  }

  /** Closes every channel and unsubscribes every listener; nothing keeps the process alive after. */
  close(): void {
    for (const service of this.#services.values()) service.channel.close();
    this.#services.clear();
    for (const cleanup of this.#cleanups.splice(0)) cleanup();
  }
}

/** The factory of breakers shared by the fleet through `store`, with the configured read interval and ramp. */
function sharedBreakerFactory(
  shared: NonNullable<MeshConfig['sharedBreaker']>,
  options: MeshRuntimeOptions,
  store: MeshStateStore,
): BreakerFactory {
  const owner = options.containerId ?? containerOwnerId();
  return (breakerOptions, clock) =>
    new SharedCircuitBreaker(
      breakerOptions,
      {
        store,
        owner,
        readIntervalMs: shared.readIntervalSeconds * 1000,
        slowStartMs: shared.slowStartSeconds * 1000,
        leaseMs: SHARED_BREAKER_DEFAULTS.leaseMs,
      },
      clock,
    );
}
