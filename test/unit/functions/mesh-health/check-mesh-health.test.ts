import { describe, expect, it } from 'vitest';
import { checkMeshHealth } from '../../../../functions/mesh-health/check-mesh-health.js';
import { DiscoveryError } from '../../../../shared/discovery/discovery-error.js';
import { MeshCallError } from '../../../../shared/errors.js';

const resolution = (service: string) => ({ service, addresses: [{ host: '10.0.0.1', port: 50051 }], source: 'cloudmap' as const, resolvedAt: 0, expiresAt: 1, stale: false });

describe('checkMeshHealth', () => {
  it('reports every service, and one failing never hides another', async () => {
    const report = await checkMeshHealth({
      services: ['contact-service', 'ledger', 'billing'],
      discovery: {
        resolve: async (service) => {
          if (service === 'billing') throw new DiscoveryError('DISCOVERY_FAILED', 'billing cannot be resolved', { service, failures: [] });
          return resolution(service);
        },
      },
      check: async (service) => {
        if (service === 'ledger') throw new MeshCallError('MESH_SERVER_NOT_AUTHORIZED', 'wrong id', { service, method: 'Check' });
        return 'SERVING';
      },
      breakerState: (service) => (service === 'ledger' ? 'open' : 'closed'),
      identity: { spiffeId: 'spiffe://jia.app/payment-functions', secondsToExpiry: 1800 },
    });

    expect(report.services.map((s) => [s.service, s.up, s.error?.code, s.breaker])).toEqual([
      ['contact-service', true, undefined, 'closed'],
      ['ledger', false, 'MESH_SERVER_NOT_AUTHORIZED', 'open'],
      ['billing', false, 'DISCOVERY_FAILED', 'closed'],
    ]);
    expect(report.services[0]?.discovery).toEqual({ source: 'cloudmap', addresses: 1, stale: false });
    expect(report.svidExpiresInSeconds).toBe(1800);
  });

  it('counts a service that answers NOT_SERVING as down', async () => {
    const report = await checkMeshHealth({
      services: ['contact-service'],
      discovery: { resolve: async (s) => resolution(s) },
      check: async () => 'NOT_SERVING',
      breakerState: () => 'closed',
      identity: { spiffeId: 'spiffe://jia.app/payment-functions', secondsToExpiry: 1 },
    });

    expect(report.services[0]).toMatchObject({ up: false, status: 'NOT_SERVING' });
  });
});

describe('checkMeshHealth as the fleet\'s prober', () => {
  it('checks again at once while its check holds the breaker half-open, until the breaker decides', async () => {
    let breaker: 'open' | 'half-open' | 'closed' = 'half-open';
    let checks = 0;
    const report = await checkMeshHealth({
      services: ['contact-service'],
      discovery: { resolve: async (s) => resolution(s) },
      check: async () => {
        checks += 1;
        if (checks === 2) breaker = 'closed'; // the breaker's success threshold is 2
        return 'SERVING';
      },
      breakerState: () => breaker,
      fleetBreaker: async () => breaker,
      identity: { spiffeId: 'spiffe://jia.app/payment-functions', secondsToExpiry: 1 },
    });

    expect(checks).toBe(2);
    expect(report.services[0]).toMatchObject({ up: true, breaker: 'closed', fleetBreaker: 'closed' });
  });

  it('stops probing on the first answer that is not SERVING', async () => {
    let checks = 0;
    await checkMeshHealth({
      services: ['contact-service'],
      discovery: { resolve: async (s) => resolution(s) },
      check: async () => {
        checks += 1;
        return 'NOT_SERVING';
      },
      breakerState: () => 'half-open',
      identity: { spiffeId: 'spiffe://jia.app/payment-functions', secondsToExpiry: 1 },
    });

    expect(checks).toBe(1);
  });
});
