import type { SecretsManagerAccess } from '../secrets/secrets-manager-access.js';
import type { Matcher } from '../spiffe/match.js';
import type { SpiffeId } from '../spiffe/spiffe-id.js';

/** Where service addresses come from; `xds` only where the discovery layer supports it. */
export type DiscoveryScheme = 'cloudmap' | 'dns' | 'static' | 'xds';
export const DISCOVERY_SCHEMES = ['cloudmap', 'dns', 'static', 'xds'] as const satisfies readonly DiscoveryScheme[];

/** The fallback chain of DESIGN.md: Cloud Map, then DNS (SRV, then A/AAAA), then the static address. */
const FALLBACK_CHAIN: readonly DiscoveryScheme[] = ['cloudmap', 'dns', 'static'];
/**
 * The chain with DNS first (`SERVICE_MESH_DISCOVERY_DNS_FIRST`): the records Cloud Map writes in a
 * DNS namespace, then its `DiscoverInstances` API, then the static address.
 */
const DNS_FIRST_CHAIN: readonly DiscoveryScheme[] = ['dns', 'cloudmap', 'static'];

/** Circuit breaker of one service (cockatiel's consecutive breaker plus a half-open probe limit). */
export interface CircuitBreakerConfig {
  /** Consecutive transport failures that open the breaker. */
  failureThreshold: number;
  /** Successes in half-open that close it again. */
  successThreshold: number;
  /** Seconds the breaker stays open before going half-open. */
  timeoutSeconds: number;
  /** Calls let through while half-open. */
  halfOpenMaxCalls: number;
}

/**
 * The breaker every container of the fleet shares through the `mesh-state` DynamoDB table
 * (`MESH_STATE_TABLE`); absent when breakers are per container.
 */
export interface SharedBreakerConfig {
  /** The `mesh-state` table: name or ARN. */
  table: string;
  /** Seconds between two reads of a service's fleet state by one container. */
  readIntervalSeconds: number;
  /** Seconds over which traffic ramps up after the fleet's breaker closed; 0 for no ramp. */
  slowStartSeconds: number;
}

/** One mesh service this function calls, e.g. the contact-service. */
export interface ServiceConfig {
  /** The `<KEY>` of its `EXTERNAL_SERVICES_<KEY>_*` variables, e.g. `CONTACT_SERVICE`. */
  key: string;
  /** Its mesh name (Cloud Map service, DNS label), e.g. `contact-service`. */
  name: string;
  /** The static address, the last discovery fallback. */
  address?: { host: string; port: number };
  /** The SPIFFE ID(s) the server must present, as configured (or defaulted). */
  spiffeId: string;
  /** Authorises the server's SPIFFE ID; built from {@link spiffeId}. */
  authorize: Matcher;
  /** Deadline of one call, before the Lambda's remaining time caps it. */
  timeoutSeconds: number;
  /** Bulkhead: calls in flight at once from one container. */
  maxConcurrentCalls: number;
  circuitBreaker: CircuitBreakerConfig;
}

/** The function's whole mesh configuration, validated. */
export interface MeshConfig {
  enabled: boolean;
  /** The function's own SPIFFE ID, when configured (the SVID carries it too). */
  spiffeId?: SpiffeId;
  mtlsEnabled: boolean;
  discovery: {
    /** Cloud Map namespace, also the DNS domain of SRV/A lookups. */
    namespace?: string;
    scheme: DiscoveryScheme;
    /**
     * Ask DNS before the Cloud Map API (only with `scheme` cloudmap, in a DNS namespace): a cold
     * start then needs no Cloud Map client when DNS answers.
     */
    dnsFirst: boolean;
    /** `scheme` first, then the fallbacks after it in the chain cloudmap → dns → static (dns → cloudmap → static with `dnsFirst`). */
    order: DiscoveryScheme[];
    /** `ip`, `ip:port` or `[ipv6]:port`; empty for the system resolver. */
    dnsServers: string[];
    ttlSeconds: number;
  };
  /** Where the SVID comes from: a Secrets Manager secret in AWS, spiffe-helper files locally. */
  svid: { secretId?: string; dir?: string };
  /**
   * How secrets are read (`SECRETS_MANAGER_ACCESS`, `PARAMETERS_SECRETS_EXTENSION_HTTP_PORT`,
   * `SECRETS_MANAGER_TTL`); absent when none is set, which means the SDK.
   */
  secretsManager?: SecretsManagerAccess;
  /** The defaults of every service's breaker. */
  circuitBreaker: CircuitBreakerConfig;
  /** By service name, e.g. `contact-service`. */
  services: Record<string, ServiceConfig>;
  /** Present when the fleet shares its breakers (`MESH_STATE_TABLE` set, `CIRCUIT_BREAKER_SHARED` not false). */
  sharedBreaker?: SharedBreakerConfig;
}

/** Every default of {@link MeshConfig}, declared once. */
export const MESH_DEFAULTS = {
  enabled: true,
  mtlsEnabled: true,
  discovery: { scheme: 'cloudmap', ttlSeconds: 30, dnsFirst: false },
  circuitBreaker: { failureThreshold: 5, successThreshold: 2, timeoutSeconds: 60, halfOpenMaxCalls: 3 },
  service: { timeoutSeconds: 10, maxConcurrentCalls: 16 },
  sharedBreaker: { readIntervalSeconds: 5, slowStartSeconds: 30 },
} as const satisfies {
  enabled: boolean;
  mtlsEnabled: boolean;
  discovery: { scheme: DiscoveryScheme; ttlSeconds: number; dnsFirst: boolean };
  circuitBreaker: CircuitBreakerConfig;
  service: Pick<ServiceConfig, 'timeoutSeconds' | 'maxConcurrentCalls'>;
  sharedBreaker: Omit<SharedBreakerConfig, 'table'>;
};

/**
 * The discovery order for `scheme`: the scheme itself, then the chain's fallbacks after it
 * (`dns` → dns, static). `xds` is outside the chain and falls back to all of it. `dnsFirst`
 * (meaningful only for `cloudmap`, which the loader checks) gives dns → cloudmap → static.
 */
export function discoveryOrder(scheme: DiscoveryScheme, dnsFirst: boolean = MESH_DEFAULTS.discovery.dnsFirst): DiscoveryScheme[] {
  if (dnsFirst && scheme === 'cloudmap') return [...DNS_FIRST_CHAIN];
  const at = FALLBACK_CHAIN.indexOf(scheme);
  return [scheme, ...FALLBACK_CHAIN.slice(at + 1)];
}
