import type { Discovery } from '../../shared/discovery/discovery.js';
import { MeshError } from '../../shared/errors.js';
import type { BreakerStateName } from '../../shared/resilience/circuit-breaker.js';
import type { ServingStatus } from '../../shared/transport/health-client.js';
import type { ConsumptionReport } from './queue-consumption.js';

/** One service's health as mesh-health saw it. */
export interface ServiceHealth {
  service: string;
  up: boolean;
  /** `grpc.health.v1` status when the service answered. */
  status: ServingStatus | undefined;
  /** The typed error code when it did not (discovery, TLS, SPIFFE, deadline, breaker, …). */
  error: { code: string; message: string } | undefined;
  /** Where discovery found it and how many instances. */
  discovery: { source: string; addresses: number; stale: boolean } | undefined;
  /** This container's breaker. */
  breaker: BreakerStateName;
  /** The fleet's breaker from the `mesh-state` table, read after the check; undefined when not shared or unreadable. */
  fleetBreaker: BreakerStateName | undefined;
  latencyMs: number;
}

/** The whole report: every configured service, and our own SVID. */
export interface MeshHealthReport {
  checkedAt: string;
  spiffeId: string;
  svidExpiresInSeconds: number;
  services: ServiceHealth[];
  /** What was done to grant-entitlements' event source mapping, when mesh-health controls it. */
  consumption?: ConsumptionReport;
}

/** What checking one service needs, per service name. */
export interface MeshHealthDeps {
  services: readonly string[];
  discovery: Pick<Discovery, 'resolve'>;
  /** `grpc.health.v1.Health/Check` over the service's mTLS channel and policy. */
  check(service: string): Promise<ServingStatus>;
  breakerState(service: string): BreakerStateName;
  /** The fleet's breaker of a service, when breakers are shared; never throws. */
  fleetBreaker?(service: string): Promise<BreakerStateName | undefined>;
  identity: { spiffeId: string; secondsToExpiry: number };
  now?: () => number;
}

/**
 * A check that won the fleet's probe leaves the breaker half-open until `successThreshold` probes
 * succeed: mesh-health probes on at once (at most this many more checks) instead of a schedule
 * period later, because while consumption is paused nobody else calls the service.
 */
const MAX_FOLLOW_UP_PROBES = 5;

function errorOf(error: unknown): { code: string; message: string } {
  if (error instanceof MeshError) return { code: error.code, message: error.message };
  return { code: 'INTERNAL', message: error instanceof Error ? error.message : String(error) };
}

/**
 * Checks every configured mesh service the way a call would reach it: discover, connect over mTLS
 * (the server authorised by SPIFFE ID), and ask `grpc.health.v1.Health/Check`. Services are
 * checked concurrently and a failure of one never hides another's result; nothing here throws.
 */
export async function checkMeshHealth(deps: MeshHealthDeps): Promise<MeshHealthReport> {
  const now = deps.now ?? Date.now;
  const services = await Promise.all(
    deps.services.map(async (service): Promise<ServiceHealth> => {
      const started = now();
      let discovery: ServiceHealth['discovery'];
      let status: ServingStatus | undefined;
      let error: ServiceHealth['error'];
      try {
        const resolution = await deps.discovery.resolve(service);
        discovery = { source: resolution.source, addresses: resolution.addresses.length, stale: resolution.stale };
        status = await deps.check(service);
        for (let probe = 0; status === 'SERVING' && deps.breakerState(service) === 'half-open' && probe < MAX_FOLLOW_UP_PROBES; probe += 1) {
          status = await deps.check(service);
        }
      } catch (e) {
        error = errorOf(e);
      }
      const latencyMs = now() - started;
      return {
        service,
        up: status === 'SERVING',
        status,
        error,
        discovery,
        breaker: deps.breakerState(service),
        fleetBreaker: deps.fleetBreaker ? await deps.fleetBreaker(service) : undefined,
        latencyMs,
      };
    }),
  );
  return {
    checkedAt: new Date(now()).toISOString(),
    spiffeId: deps.identity.spiffeId,
    svidExpiresInSeconds: deps.identity.secondsToExpiry,
    services,
  };
}
