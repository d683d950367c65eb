import type { Discovery } from '../../shared/discovery/discovery.js';
import { MeshError } from '../../shared/errors.js';
import type { BreakerStateName } from '../../shared/resilience/circuit-breaker.js';
import type { ServingStatus } from '../../shared/transport/health-client.js';

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
  breaker: BreakerStateName;
  latencyMs: number;
}

/** The whole report: every configured service, and our own SVID. */
export interface MeshHealthReport {
  checkedAt: string;
  spiffeId: string;
  svidExpiresInSeconds: number;
  services: ServiceHealth[];
}

/** What checking one service needs, per service name. */
export interface MeshHealthDeps {
  services: readonly string[];
  discovery: Pick<Discovery, 'resolve'>;
  /** `grpc.health.v1.Health/Check` over the service's mTLS channel and policy. */
  check(service: string): Promise<ServingStatus>;
  breakerState(service: string): BreakerStateName;
  identity: { spiffeId: string; secondsToExpiry: number };
  now?: () => number;
}

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
      } catch (e) {
        error = errorOf(e);
      }
      return {
        service,
        up: status === 'SERVING',
        status,
        error,
        discovery,
        breaker: deps.breakerState(service),
        latencyMs: now() - started,
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
