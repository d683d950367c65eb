import { Resolver } from 'node:dns/promises';
import { isIP } from 'node:net';
import { DiscoveryError } from './discovery-error.js';
import type { DiscoverySource, DiscoveryTarget } from './discovery-source.js';
import { DEFAULT_GRPC_PORT, uniqueAddresses, type ServiceAddress } from './service-address.js';

export interface DnsSourceOptions {
  /** The DNS domain the service lives in (the Cloud Map namespace); without one, names are looked up bare. */
  namespace: string | undefined;
  /** `ip`, `ip:port` or `[ipv6]:port` (`SERVICE_MESH_DISCOVERY_DNS_SERVERS`); empty for the system's servers. */
  servers: readonly string[];
  /** How long one query waits for an answer before the resolver gives up on it. */
  queryTimeoutMs: number;
}

export const DNS_SOURCE_DEFAULTS: DnsSourceOptions = { namespace: undefined, servers: [], queryTimeoutMs: 1000 };

/** Answers that mean "no such records", as opposed to a resolver that could not be asked. */
const NO_RECORDS = new Set(['ENOTFOUND', 'ENODATA']);

/**
 * Discovers instances through DNS, asking at once for the names a Cloud Map DNS namespace writes
 * and the gRPC convention's:
 * - SRV `<name>.<namespace>`: Cloud Map's SRV records (`1 1 <AWS_INSTANCE_PORT> <instance-id>.<name>.<namespace>`,
 *   each target with its own A/AAAA records), per the `DnsRecord` and `CreateService` API reference;
 * - SRV `_grpc._tcp.<name>.<namespace>`: a zone kept by hand for gRPC;
 * - A/AAAA `<name>.<namespace>`: Cloud Map's A/AAAA records, with the static address's port or 50051
 *   (an A record carries no port; Cloud Map's `AWS_INSTANCE_PORT` is only in its API's answer).
 * SRV answers win, Cloud Map's name before the convention's; A/AAAA are used without them. The
 * four queries go out together: one round trip where a sequence would take two or three.
 *
 * Only SRV records of the lowest priority are used (RFC 2782: higher priorities are backups);
 * weights are ignored, as the channel balances round-robin over whatever it is given.
 */
export class DnsSource implements DiscoverySource {
  readonly name = 'dns';
  readonly #options: DnsSourceOptions;

  constructor(options: Partial<DnsSourceOptions> = {}) {
    this.#options = { ...DNS_SOURCE_DEFAULTS, ...options };
  }

  /**
   * The instances DNS knows for the service; empty when neither SRV nor A/AAAA records exist.
   *
   * @throws {DiscoveryError} `DISCOVERY_TIMEOUT` when `signal` aborted or the servers did not
   *   answer, `DISCOVERY_SOURCE_FAILED` when they answered with an error.
   */
  async resolve(service: DiscoveryTarget, signal: AbortSignal): Promise<ServiceAddress[]> {
    const host = this.#options.namespace === undefined ? service.name : `${service.name}.${this.#options.namespace}`;
    // One resolver per lookup: `cancel()` on abort must not cancel other services' queries.
    const resolver = new Resolver({ timeout: this.#options.queryTimeoutMs, tries: 1 });
    if (this.#options.servers.length > 0) resolver.setServers([...this.#options.servers]);
    const cancel = () => resolver.cancel();
    signal.addEventListener('abort', cancel, { once: true });
    try {
      // Settled, then taken in order of preference: a preferred answer stands whatever a later
      // lookup did, and a preferred lookup that failed fails the source (what it would have
      // answered, e.g. SRV's ports, is unknown) rather than let a lesser answer through.
      const [cloudMapSrv, grpcSrv, direct] = await Promise.allSettled([
        srvAddresses(resolver, host),
        srvAddresses(resolver, `_grpc._tcp.${host}`),
        hostAddresses(resolver, host, service.address?.port ?? DEFAULT_GRPC_PORT),
      ]);
      for (const answer of [cloudMapSrv, grpcSrv, direct]) {
        if (answer.status === 'rejected') throw answer.reason;
        if (answer.value.length > 0) return answer.value;
      }
      return [];
    } catch (error) {
      throw dnsFailure(service.name, host, error, signal);
    } finally {
      signal.removeEventListener('abort', cancel);
    }
  }
}

/** The SRV records' targets with their ports; empty when there are no SRV records. */
async function srvAddresses(resolver: Resolver, name: string): Promise<ServiceAddress[]> {
  const records = await resolver.resolveSrv(name).catch(noRecordsAsEmpty);
  if (records.length === 0) return [];
  const priority = Math.min(...records.map((r) => r.priority));
  const chosen = records.filter((r) => r.priority === priority);
  const resolved = await Promise.all(chosen.map((r) => hostAddresses(resolver, r.name, r.port).catch(noRecordsAsEmpty)));
  return uniqueAddresses(resolved.flat());
}

/** The A and AAAA addresses of `host` (or `host` itself when it is an IP) with `port`. */
async function hostAddresses(resolver: Resolver, host: string, port: number): Promise<ServiceAddress[]> {
  if (isIP(host) !== 0) return [{ host, port }];
  const [v4, v6] = await Promise.allSettled([resolver.resolve4(host), resolver.resolve6(host)]);
  const found = [v4, v6].flatMap((r) => (r.status === 'fulfilled' ? r.value : []));
  const failed = [v4, v6].flatMap((r) => (r.status === 'rejected' && !NO_RECORDS.has(codeOf(r.reason)) ? [r.reason] : []));
  // One family answering is enough; report an error only when nothing was found because of it.
  if (found.length === 0 && failed.length > 0) throw failed[0];
  return uniqueAddresses(found.map((ip) => ({ host: ip, port })));
}

function noRecordsAsEmpty(error: unknown): never[] {
  if (NO_RECORDS.has(codeOf(error))) return [];
  throw error;
}

function codeOf(error: unknown): string {
  return typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : '';
}

function dnsFailure(service: string, host: string, error: unknown, signal: AbortSignal): DiscoveryError {
  const code = codeOf(error) || (error instanceof Error ? error.name : String(error));
  if (signal.aborted || code === 'ECANCELLED') {
    return new DiscoveryError('DISCOVERY_TIMEOUT', `dns lookup of ${host} did not answer within its time budget`, { service }, { cause: error });
  }
  if (code === 'ETIMEOUT') {
    return new DiscoveryError('DISCOVERY_TIMEOUT', `dns lookup of ${host} timed out: no server answered`, { service }, { cause: error });
  }
  return new DiscoveryError('DISCOVERY_SOURCE_FAILED', `dns lookup of ${host} failed: ${code}`, { service }, { cause: error });
}
